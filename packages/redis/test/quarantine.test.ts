/**
 * The quarantine on real Redis: records a worker cannot read, or that a newer version wrote,
 * are set aside with their stored text kept, alone, wherever they are met (claim, promote,
 * reap, the client's own decoding), and the jobs behind them run.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { QueueStore } from "@effect-jobs/core"
import { Effect, Option } from "effect"
import type * as IoRedis from "../src/IoRedis.ts"
import { scripts } from "../src/internal/scripts.ts"
import * as RedisKeys from "../src/RedisKeys.ts"
import { newJob, withStore as sharedWithStore } from "./helpers/effects.ts"
import { testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("quarantine")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

type Store = QueueStore.QueueStore["Service"]
type Io = IoRedis.IoRedis["Service"]

const withStore = <A, E>(body: (store: Store, io: Io, prefix: string) => Effect.Effect<A, E>) =>
  sharedWithStore(redis, body)

const claim = (store: Store, queues: ReadonlyArray<string> = ["default"], leaseMillis = 60_000) =>
  store.claim({ queues, limit: 10, owner: "w", leaseMillis })

const ids = (jobs: ReadonlyArray<{ readonly id: string }>) => jobs.map((job) => job.id)

/** A meta entry whose attempt count has 21 digits (Lua would write it back as 1.2345678901235e+20). */
const hugeAttempt = (now: number) => `r:123456789012345678901:0:${now}:${now}:0:Test`

describe("quarantine on Redis", () => {
  it.live("sets one unreadable record of a claim batch aside and leases the rest, other queues included", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("a1"), newJob("a2"), newJob("a3"), newJob("b1", { queue: "other" })])
        const k = RedisKeys.queueKeys(prefix, "default")
        const bad = hugeAttempt(Date.now())
        yield* io.send("HSET", k.meta, "a2", bad)
        const { jobs } = yield* store.ackAndClaim([], {
          queues: ["default", "other"],
          limit: 10,
          owner: "w",
          leaseMillis: 60_000
        })
        assert.deepStrictEqual(ids(jobs), ["a1", "a3", "b1"])
        const page = yield* store.listQuarantine({ offset: 0, limit: 10 })
        assert.strictEqual(page.total, 1)
        const entry = page.entries[0]!
        assert.strictEqual(entry.id, "a2")
        assert.strictEqual(entry.queue, "default")
        assert.include(entry.reason, "attempt count 123456789012345678901 is out of range")
        assert.strictEqual(entry.record, bad, "the stored text is kept byte for byte")
        assert.strictEqual(entry.payload, JSON.stringify({ id: "a2" }))
        // The id stays taken while its entry is kept.
        assert.strictEqual((yield* store.enqueue([newJob("a2")]))[0]?.outcome, "duplicate")
        // Re-enqueued, it runs as a fresh job under its name.
        assert.strictEqual(yield* store.requeueQuarantined(["a2", "unknown"]), 1)
        const [again] = yield* claim(store)
        assert.strictEqual(again?.id, "a2")
        assert.strictEqual(again?.name, "Test")
        assert.strictEqual(again?.attempt, 1)
        assert.strictEqual((yield* store.listQuarantine({ offset: 0, limit: 10 })).total, 0)
      })
    )
  )

  it.live("leaves a record of a newer format version for a newer worker, never deleting it", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("next"), newJob("now")])
        const k = RedisKeys.queueKeys(prefix, "default")
        const newer = `2~r:0:0:${Date.now()}:${Date.now()}:0:Test:a-field-of-version-2`
        yield* io.send("HSET", k.meta, "next", newer)
        assert.deepStrictEqual(ids(yield* claim(store)), ["now"])
        const [entry] = (yield* store.listQuarantine({ offset: 0, limit: 10 })).entries
        assert.include(entry?.reason, "record format version 2 is newer than this worker's 1")
        assert.strictEqual(yield* io.send("HGET", k.meta, "next"), newer)
        // Put back as it is, for a newer worker: this one sets it aside again, still intact.
        assert.strictEqual(yield* store.requeueQuarantined(["next"]), 1)
        assert.strictEqual(yield* io.send("HGET", k.meta, "next"), newer)
        assert.deepStrictEqual(yield* claim(store), [])
        assert.strictEqual((yield* store.listQuarantine({ offset: 0, limit: 10 })).total, 1)
      })
    )
  )

  it.live("sets an unreadable scheduled job aside when it comes due, and admin deletion frees its id", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("later", { delayMillis: 30 }), newJob("ok", { delayMillis: 30 })])
        const k = RedisKeys.queueKeys(prefix, "default")
        yield* io.send("HSET", k.meta, "later", "not a record")
        yield* Effect.sleep("60 millis")
        assert.deepStrictEqual(ids(yield* claim(store)), ["ok"])
        assert.strictEqual(yield* io.send("ZCARD", k.scheduled), 0)
        const [entry] = (yield* store.listQuarantine({ offset: 0, limit: 10 })).entries
        assert.strictEqual(entry?.id, "later")
        assert.strictEqual(entry?.record, "not a record")
        assert.strictEqual(yield* store.requeueQuarantined(["later"]), 0, "no job name to re-enqueue it under")
        assert.strictEqual(yield* store.removeQuarantined(["later"]), 1)
        assert.strictEqual(yield* io.send("HGET", k.payload, "later"), null)
        assert.strictEqual((yield* store.enqueue([newJob("later")]))[0]?.outcome, "enqueued")
      })
    )
  )

  it.live("the reaper sets an expired lease with an unreadable record aside instead of dropping it", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("stuck"), newJob("fine")])
        yield* claim(store, ["default"], 1)
        const k = RedisKeys.queueKeys(prefix, "default")
        const bad = hugeAttempt(Date.now()).replace(/^r/, "l")
        yield* io.send("HSET", k.meta, "stuck", bad)
        yield* Effect.sleep("20 millis")
        assert.strictEqual(yield* store.reap, 1, "only the readable lease counts as re-queued")
        assert.deepStrictEqual(ids(yield* claim(store)), ["fine"])
        const [entry] = (yield* store.listQuarantine({ offset: 0, limit: 10 })).entries
        assert.strictEqual(entry?.id, "stuck")
        assert.strictEqual(entry?.record, bad)
        assert.strictEqual((yield* store.stats).leased, 1)
      })
    )
  )

  it.live("sets a claimed job aside whose record the client cannot read; the batch runs", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("odd"), newJob("even")])
        const k = RedisKeys.queueKeys(prefix, "default")
        // The script copies the time fields as they are; the client refuses 19 digits.
        yield* io.send("HSET", k.meta, "odd", "r:0:0:1234567890123456789:1:0:Test")
        assert.deepStrictEqual(ids(yield* claim(store)), ["even"])
        let page = yield* store.listQuarantine({ offset: 0, limit: 10 })
        for (let i = 0; i < 100 && page.total === 0; i++) {
          yield* Effect.sleep("5 millis")
          page = yield* store.listQuarantine({ offset: 0, limit: 10 })
        }
        assert.strictEqual(page.entries[0]?.id, "odd")
        assert.include(page.entries[0]?.reason, "not in a format this client reads")
        assert.strictEqual((yield* store.stats).leased, 1, "its lease is gone")
        assert.isTrue(Option.isNone(yield* store.get("odd")))
      })
    )
  )

  it.live("answers a resent set-aside as its first run did", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("a")])
        const [lease] = yield* claim(store)
        const k = RedisKeys.queueKeys(prefix, "default")
        const args = ["unreadable", lease!.id, lease!.token]
        const first = yield* io.runScript(scripts().quarantine, [k.leases, k.token, k.quarantine], args)
        const again = yield* io.runScript(scripts().quarantine, [k.leases, k.token, k.quarantine], args)
        assert.deepStrictEqual(first, ["a"])
        assert.deepStrictEqual(again, ["a"], "a lost reply's resend reports the same job set aside")
        assert.strictEqual((yield* store.listQuarantine({ offset: 0, limit: 10 })).total, 1)
      })
    )
  )
})
