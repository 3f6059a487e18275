import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Job, JobClient, JobRegistry, JobWorker } from "@effect-jobs/core"
import { recordingTracer } from "@effect-jobs/core/test/conformance/recordingTracer.ts"
import { Effect, Layer, Option, Schema } from "effect"
import * as RedisBackend from "../src/RedisBackend.ts"
import { waitUntil } from "./helpers/effects.ts"
import { testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("tracing")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

const Greet = Job.make("Greet", { payload: { to: Schema.String } })

describe("tracing on Redis", () => {
  it.live("a worker on its own connection runs the job under the span that enqueued it", () =>
    Effect.gen(function* () {
      const prefix = redis.prefix()
      const backend = () => RedisBackend.layer({ url: redis.url, prefix, allowEviction: true })
      // Producer and worker share nothing but Redis: two connections, two tracers.
      const producer = recordingTracer()
      const consumer = recordingTracer()
      const ran: Array<string> = []
      const handlers = JobRegistry.add(Greet.handle(({ to }) => Effect.sync(() => void ran.push(to))))

      const { id } = yield* Greet.enqueue({ to: "ada" }).pipe(
        Effect.withSpan("POST /signup"),
        Effect.provide(JobClient.layer().pipe(Layer.provideMerge(backend()))),
        Effect.withTracer(producer.tracer)
      )
      yield* Effect.gen(function* () {
        yield* Layer.build(JobWorker.layer({ concurrency: 1 }).pipe(Layer.provide(handlers)))
        yield* waitUntil(
          () => consumer.spans.some((span) => span.name === "JobWorker.settle" && span.status._tag === "Ended"),
          5_000
        )
      }).pipe(Effect.scoped, Effect.provide(backend()), Effect.withTracer(consumer.tracer))

      assert.deepStrictEqual(ran, ["ada"])
      const enqueue = producer.spans.find((span) => span.name === "JobClient.enqueue")!
      const run = consumer.spans.find((span) => span.name === "JobWorker.run")!
      assert.strictEqual(run.traceId, enqueue.traceId)
      assert.strictEqual(Option.getOrUndefined(run.parent)?.spanId, enqueue.spanId)
      assert.strictEqual(run.attributes.get("job.id"), id)
    })
  )
})
