import { assert, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobClient, JobRegistry, MemoryBackend, JobWorker } from "../src/index.ts"

const Hello = Job.make("Hello", { payload: { n: Schema.Number } })

it.effect("a worker runs enqueued jobs", () =>
  Effect.gen(function* () {
    const seen: Array<number> = []
    const handlers = JobRegistry.add(Hello.handle(({ n }) => Effect.sync(() => void seen.push(n))))
    const stores = MemoryBackend.layer()
    const client = JobClient.layer().pipe(Layer.provide(stores))
    yield* Effect.scoped(
      Effect.gen(function* () {
        yield* Layer.build(
          JobWorker.layer({ concurrency: 5 }).pipe(Layer.provide(handlers), Layer.provideMerge(stores))
        )
        for (let i = 0; i < 20; i++) yield* Hello.enqueue({ n: i })
        // The worker runs alongside: give it scheduler turns until the jobs are done (or 1 s passed).
        for (let i = 0; i < 100 && seen.length < 20; i++) yield* TestClock.adjust("10 millis")
      }).pipe(Effect.provide(client))
    )
    assert.strictEqual(seen.length, 20)
  })
)
