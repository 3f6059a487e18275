/** Lost replies on a standalone server: the shared suite, and the reply lost to `CLIENT PAUSE`. */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { QueueStore } from "@effect-jobs/core"
import { Context, Effect, Layer, Option, References } from "effect"
import * as RedisBackend from "../src/RedisBackend.ts"
import { lostReplySuite } from "./helpers/lostReplySuite.ts"
import { command, testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("lost")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

lostReplySuite("standalone", () => redis.url)

describe("claimBytes", () => {
  it.live("a claim stops once its payloads pass claimBytes, leaving the rest at the head in order (defect 2)", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        RedisBackend.layer({ url: redis.url, prefix: redis.prefix(), allowEviction: true }).pipe(
          Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
        )
      )
      const store = Context.get(context, QueueStore.QueueStore)
      // Five jobs of 400 KB: a claim of five would be a 2 MB reply; the default cap is 1 MiB.
      const payload = JSON.stringify({ blob: "x".repeat(400_000) })
      yield* store.enqueue(["b1", "b2", "b3", "b4", "b5"].map((id) => ({ id, name: "Big", queue: "default", payload })))
      const options = { queues: ["default"], limit: 5, owner: "big", leaseMillis: 30_000 }
      const first = yield* store.claim(options)
      assert.deepStrictEqual(
        first.map((job) => job.id),
        ["b1", "b2", "b3"]
      )
      assert.strictEqual(first[0]!.payload, payload)
      const rest = yield* store.listQueue("default", { offset: 0, limit: 10 })
      assert.deepStrictEqual(
        rest.jobs.map((job) => [job.id, job.attempt]),
        [
          ["b4", 0],
          ["b5", 0]
        ]
      )
      const second = yield* store.claim(options)
      assert.deepStrictEqual(
        second.map((job) => job.id),
        ["b4", "b5"]
      )
    }).pipe(Effect.scoped)
  )
})

describe("CLIENT PAUSE longer than the command timeout", () => {
  const withStore = <A, E>(body: (store: QueueStore.QueueStore["Service"]) => Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        RedisBackend.layer({ url: redis.url, prefix: redis.prefix(), allowEviction: true, commandTimeout: 300 }).pipe(
          Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
        )
      )
      return yield* body(Context.get(context, QueueStore.QueueStore))
    }).pipe(Effect.scoped)

  it.live("a claim sent during the pause leases the job once, attempt 1, and the caller gets it", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.enqueue([{ id: "once", name: "Test", queue: "default", payload: "{}" }])
        yield* Effect.promise(() => command(redis.url, "CLIENT", "PAUSE", 800, "WRITE"))
        const jobs = yield* store.claim({ queues: ["default"], limit: 5, owner: "paused", leaseMillis: 30_000 })
        assert.deepStrictEqual(
          jobs.map((job) => [job.id, job.attempt]),
          [["once", 1]]
        )
        assert.strictEqual(Option.getOrThrow(yield* store.get("once")).attempt, 1)
      })
    )
  )

  it.live("an enqueue sent during the pause writes one job and answers enqueued", () =>
    withStore((store) =>
      Effect.gen(function* () {
        // A first job makes the store remember the queue, so the pause meets the enqueue script itself.
        yield* store.enqueue([{ id: "g0", idGenerated: true, name: "Test", queue: "default", payload: "{}" }])
        yield* Effect.promise(() => command(redis.url, "CLIENT", "PAUSE", 500, "WRITE"))
        const results = yield* store.enqueue([
          { id: "g1", idGenerated: true, name: "Test", queue: "default", payload: "{}" }
        ])
        assert.deepStrictEqual(results, [{ id: "g1", outcome: "enqueued" }])
        assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 2)
      })
    )
  )
})
