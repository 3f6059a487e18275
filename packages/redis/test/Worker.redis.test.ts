import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Job, JobClient, JobRegistry, QueueStore, JobWorker } from "@effect-jobs/core"
import { Effect, Layer, Schema } from "effect"
import * as RedisBackend from "../src/RedisBackend.ts"
import { statsOnceProcessed, waitUntil } from "./helpers/effects.ts"
import { testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("worker")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

const Work = Job.make("Work", { payload: { n: Schema.Number } })

describe("Worker on Redis", () => {
  it.live(
    "runs 2,000 jobs with concurrency 25, each exactly once",
    () =>
      Effect.gen(function* () {
        const total = 2_000
        const runs = new Map<number, number>()
        let inFlight = 0
        let maxInFlight = 0
        const handlers = JobRegistry.add(
          Work.handle(({ n }) =>
            Effect.gen(function* () {
              inFlight++
              maxInFlight = Math.max(maxInFlight, inFlight)
              runs.set(n, (runs.get(n) ?? 0) + 1)
              yield* Effect.yieldNow
              inFlight--
            })
          )
        )
        const backend = RedisBackend.layer({ url: redis.url, prefix: redis.prefix(), allowEviction: true })
        yield* Effect.gen(function* () {
          const enqueueStart = performance.now()
          const results = yield* Work.enqueueMany(Array.from({ length: total }, (_, n) => ({ n })))
          const enqueueMillis = performance.now() - enqueueStart
          assert.isTrue(results.every((r) => r.outcome === "enqueued"))
          const runStart = performance.now()
          yield* Layer.build(JobWorker.layer({ concurrency: 25 }).pipe(Layer.provide(handlers)))
          yield* waitUntil(() => runs.size === total, 60_000)
          const runMillis = performance.now() - runStart
          assert.strictEqual(runs.size, total)
          for (const [n, count] of runs) assert.strictEqual(count, 1, `job ${n} ran ${count} times`)
          assert.isAtMost(maxInFlight, 25)
          const stats = yield* statsOnceProcessed(total)
          assert.strictEqual(stats.processed, total)
          assert.strictEqual(stats.leased, 0)
          assert.strictEqual(stats.queues.find((q) => q.name === "default")?.size, 0)
          console.log(
            `Redis end to end: enqueued ${total} jobs in ${enqueueMillis.toFixed(0)} ms ` +
              `(${Math.round(total / (enqueueMillis / 1000))}/s); ran them with concurrency 25 in ` +
              `${runMillis.toFixed(0)} ms (${Math.round(total / (runMillis / 1000))} jobs/s)`
          )
        }).pipe(Effect.scoped, Effect.provide(JobClient.layer().pipe(Layer.provideMerge(backend))))
      }),
    90_000
  )

  it.live("reaps leases that ran out when it starts, not one reap interval later", () =>
    Effect.gen(function* () {
      const ran: Array<number> = []
      const handlers = JobRegistry.add(Work.handle(({ n }) => Effect.sync(() => void ran.push(n))))
      const backend = RedisBackend.layer({ url: redis.url, prefix: redis.prefix(), allowEviction: true })
      yield* Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        yield* Work.enqueue({ n: 1 })
        // A worker that claimed the job and died: its lease runs out and nobody reaped it yet.
        yield* store.claim({ queues: ["default"], limit: 1, owner: "died", leaseMillis: 1 })
        yield* Effect.sleep("20 millis")
        yield* Layer.build(JobWorker.layer({ concurrency: 1, reapInterval: "1 hour" }).pipe(Layer.provide(handlers)))
        yield* waitUntil(() => ran.length > 0, 3_000)
        assert.deepStrictEqual(ran, [1])
      }).pipe(Effect.scoped, Effect.provide(JobClient.layer().pipe(Layer.provideMerge(backend))))
    })
  )
})
