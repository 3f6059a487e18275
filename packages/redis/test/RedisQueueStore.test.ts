import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type JobRecord, ProcessRegistry, type QueueStore } from "@effect-jobs/core"
import { Clock, Context, Duration, Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import type * as IoRedis from "../src/IoRedis.ts"
import { scripts } from "../src/internal/scripts.ts"
import * as RedisKeys from "../src/RedisKeys.ts"
import {
  newJob,
  ownServer,
  quietBackend,
  type StoreOptions,
  storeOf,
  subscribed,
  withStore as sharedWithStore
} from "./helpers/effects.ts"
import { command, testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("store")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

type Store = QueueStore.QueueStore["Service"]
type Io = IoRedis.IoRedis["Service"]

/** Runs `body` with a store and its client on a fresh prefix of this file's Redis. */
const withStore = <A, E>(body: (store: Store, io: Io, prefix: string) => Effect.Effect<A, E>, options?: StoreOptions) =>
  sharedWithStore(redis, body, options)

const claimAll = (store: Store, limit: number, queues: ReadonlyArray<string> = ["default"]) =>
  store.claim({ queues, limit, owner: "w", leaseMillis: 60_000 })

const killAll = (store: Store, ids: ReadonlyArray<string>, queue = "default") =>
  Effect.gen(function* () {
    yield* store.enqueue(ids.map((id) => newJob(id, { queue })))
    for (const claimed of yield* claimAll(store, ids.length, [queue])) {
      yield* store.kill({ id: claimed.id, token: claimed.token }, { reason: "bad" })
      yield* Effect.sleep("2 millis")
    }
  })

describe("RedisQueueStore", () => {
  it.live(
    "promotes more due jobs in one claim than Lua's unpack can pass at once (promoteBatch 10,000)",
    () =>
      withStore(
        (store) =>
          Effect.gen(function* () {
            const total = 10_000
            yield* store.enqueue(
              Array.from({ length: total }, (_, i) => newJob(`p${i}`, { delayMillis: 50, idGenerated: true }))
            )
            yield* Effect.sleep("100 millis")
            const claimed = yield* claimAll(store, 10)
            assert.deepStrictEqual(
              claimed.map((j) => j.id),
              Array.from({ length: 10 }, (_, i) => `p${i}`)
            )
            const stats = yield* store.stats
            assert.strictEqual(stats.scheduled, 0)
            assert.strictEqual(stats.queues.find((q) => q.name === "default")?.size, total - 10)
          }),
        { promoteBatch: 10_000 }
      ),
    30_000
  )

  it.live("keeps the leases set and token hash out of Redis's scanned small encoding, counting only jobs", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        const k = RedisKeys.queueKeys(prefix, "default")
        yield* store.enqueue([newJob("e1"), newJob("e2"), newJob("e3")])
        const claimed = yield* claimAll(store, 3)
        assert.strictEqual(claimed.length, 3)
        // Three short entries would be a listpack, where every lookup scans the whole list.
        assert.strictEqual(yield* io.send("OBJECT", "ENCODING", k.leases), "skiplist")
        assert.strictEqual(yield* io.send("OBJECT", "ENCODING", k.token), "hashtable")
        assert.strictEqual((yield* store.stats).leased, 3)
        const { acked } = yield* store.ackAndClaim(
          claimed.map(({ id, token }) => ({ id, token })),
          { queues: ["default"], limit: 0, owner: "w", leaseMillis: 60_000 }
        )
        assert.deepStrictEqual(acked, [true, true, true])
        const stats = yield* store.stats
        assert.strictEqual(stats.leased, 0)
        assert.strictEqual(stats.processed, 3)
        // The marker is no job: once every lease has expired the reaper re-queues the jobs and
        // leaves it (its deadline is +inf), and no claim returns it.
        yield* store.enqueue([newJob("e4")])
        assert.strictEqual(
          (yield* store.claim({ queues: ["default"], limit: 5, owner: "w", leaseMillis: 1 })).length,
          1
        )
        yield* Effect.sleep("20 millis")
        assert.strictEqual(yield* store.reap, 1)
        assert.strictEqual((yield* store.stats).leased, 0)
        assert.deepStrictEqual(
          (yield* claimAll(store, 5)).map((job) => job.id),
          ["e4"]
        )
        assert.strictEqual(yield* io.send("OBJECT", "ENCODING", k.leases), "skiplist")
      })
    )
  )

  it.live("keeps generated ids out of the id index and frees caller-chosen ids on ack", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        const ids = RedisKeys.idsIndex(prefix)
        const results = yield* store.enqueue([
          newJob("generated-1", { idGenerated: true }),
          newJob("chosen-1"),
          newJob("generated-2", { idGenerated: true })
        ])
        assert.deepStrictEqual(
          results.map((r) => r.outcome),
          ["enqueued", "enqueued", "enqueued"]
        )
        assert.strictEqual(yield* io.send("HGET", ids, "generated-1"), null)
        assert.match(String(yield* io.send("HGET", ids, "chosen-1")), /^default@\d+$/)
        // The caller's order is kept when both kinds share a call.
        assert.deepStrictEqual(yield* io.send("LRANGE", RedisKeys.queueKeys(prefix, "default").ready, 0, -1), [
          "generated-1",
          "chosen-1",
          "generated-2"
        ])
        // Admin lookups find a generated id without the index.
        assert.strictEqual(
          Option.map(yield* store.get("generated-1"), (job) => job.queue).pipe(Option.getOrNull),
          "default"
        )
        const claimed = yield* claimAll(store, 3)
        assert.strictEqual(yield* store.ack(claimed.map(({ id, token }) => ({ id, token }))), 3)
        // Freeing the chosen id runs in the background.
        for (let i = 0; i < 100 && (yield* io.send("HGET", ids, "chosen-1")) !== null; i++)
          yield* Effect.sleep("5 millis")
        assert.strictEqual(yield* io.send("HGET", ids, "chosen-1"), null)
        // A caller-chosen id stays unique across queues.
        yield* store.enqueue([newJob("chosen-2")])
        const [dup] = yield* store.enqueue([newJob("chosen-2", { queue: "other" })])
        assert.strictEqual(dup?.outcome, "duplicate")
      })
    )
  )

  // claim-14 packs a batch's fields into one NUL-separated string; fields with a NUL of their
  // own must come back whole, next to packed ones, and acks must line up with their leases.
  it.live("claims jobs with NUL bytes in an id, a name or a payload beside ordinary ones", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const error = { attempt: 1, tag: "Boom", message: "first\nsecond", cause: "Boom: first", at: 5 }
        yield* store.enqueue([newJob("failed-once")])
        const [first] = yield* claimAll(store, 1)
        assert.isTrue(yield* store.retry(first!, { delayMillis: 0, error, countAttempt: true }))
        yield* store.enqueue([
          newJob("plain-1"),
          newJob("nul\u0000id"),
          newJob("nul-name", { name: "Te\u0000st" }),
          newJob("raw-payload", { payload: '{"a":"\u0000"}' }),
          newJob("plain-2", { payload: "" })
        ])
        const claimed = yield* claimAll(store, 10)
        const byId = new Map(claimed.map((job) => [job.id, job]))
        assert.deepStrictEqual(
          [...byId.keys()].sort(),
          ["failed-once", "nul\u0000id", "nul-name", "plain-1", "plain-2", "raw-payload"].sort()
        )
        assert.strictEqual(byId.get("nul\u0000id")?.payload, JSON.stringify({ id: "nul\u0000id" }))
        assert.strictEqual(byId.get("nul-name")?.name, "Te\u0000st")
        assert.strictEqual(byId.get("raw-payload")?.payload, '{"a":"\u0000"}')
        assert.strictEqual(byId.get("plain-2")?.payload, "")
        assert.deepStrictEqual(byId.get("failed-once")?.errors, [error])
        assert.strictEqual(byId.get("failed-once")?.attempt, 2)
        assert.strictEqual(byId.get("plain-1")?.name, "Test")
        assert.strictEqual(new Set(claimed.map((job) => job.token)).size, claimed.length)

        // Acks ride on a claim: one stale lease among them is reported as not held.
        const leases = claimed.map(({ id, token }) => ({ id, token }))
        const stale = { id: "plain-1", token: `${byId.get("plain-1")!.token}x` }
        const { acked, jobs } = yield* store.ackAndClaim([...leases.slice(0, 3), stale, ...leases.slice(3)], {
          queues: ["default"],
          limit: 5,
          owner: "w",
          leaseMillis: 60_000
        })
        assert.deepStrictEqual(acked, [true, true, true, false, true, true, true])
        assert.deepStrictEqual(jobs, [])
        assert.strictEqual((yield* store.stats).leased, 0)
      })
    )
  )

  it.live("runs the enqueue script twice without writing anything the second time", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        const k = RedisKeys.queueKeys(prefix, "default")
        const jobs = ["a", "Test", `{"a":1}`, "", "", "1", "b", "Test", `{"b":2}`, 500, "", ""]
        const keys = [k.meta, k.payload, k.ready, k.scheduled, k.stats, k.replayA, k.replayB]
        // A letter per job: enqueued, scheduled. The same call again (same nonce) is a replay and
        // answers the same; another call with those ids finds two duplicates.
        assert.strictEqual(yield* io.runScript(scripts().enqueue, keys, [k.wake, "n1", ...jobs]), "es")
        assert.strictEqual(yield* io.runScript(scripts().enqueue, keys, [k.wake, "n1", ...jobs]), "es")
        assert.strictEqual(yield* io.runScript(scripts().enqueue, keys, [k.wake, "n2", ...jobs]), "dd")
        // (The script alone does not register the queue for stats: the store does that before it.)
        assert.strictEqual((yield* io.send("LLEN", k.ready)) as number, 1)
        assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 1)
        assert.strictEqual((yield* io.send("ZCARD", k.scheduled)) as number, 1)
      })
    )
  )

  it.live("writes a large enqueue call in order, and an id repeated within one call once", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        const k = RedisKeys.queueKeys(prefix, "default")
        const keys = [k.meta, k.payload, k.ready, k.scheduled, k.stats, k.replayA, k.replayB]
        // 1,500 ready jobs and 1,500 scheduled ones: the script writes each key in pieces.
        const ids = Array.from({ length: 3000 }, (_, i) => `j${i}`)
        const args: Array<string | number> = [k.wake, "n1"]
        ids.forEach((id, i) => {
          args.push(id, "Test", `{"i":${i}}`, i % 2 === 0 ? "" : 60_000, "", "")
        })
        const reply = (yield* io.runScript(scripts().enqueue, keys, args)) as string
        assert.strictEqual(reply, "es".repeat(1500))
        const ready = (yield* io.send("LRANGE", k.ready, 0, -1)) as Array<string>
        assert.deepStrictEqual(
          ready,
          ids.filter((_, i) => i % 2 === 0)
        )
        assert.strictEqual((yield* io.send("ZCARD", k.scheduled)) as number, 1500)
        assert.strictEqual((yield* io.send("HLEN", k.payload)) as number, 3000)
        assert.strictEqual((yield* io.send("HGET", k.payload, "j2999")) as string, `{"i":2999}`)
        const again = [k.wake, "n2", "x", "Test", `{"x":1}`, "", "", "", "x", "Test", `{"x":2}`, "", "", ""]
        assert.strictEqual(yield* io.runScript(scripts().enqueue, keys, again), "ed")
        assert.strictEqual((yield* io.send("HGET", k.payload, "x")) as string, `{"x":1}`)
        assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 1 })).total, 1501)
      })
    )
  )

  it.live("runs settlement scripts twice without settling twice, answering the second run as the first", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("a"), newJob("b")])
        const [a, b] = yield* claimAll(store, 2)
        const k = RedisKeys.queueKeys(prefix, "default")
        const retryArgs = [k.wake, 25, 32_768, b!.id, b!.token, 0, "1", ""]
        const retryKeys = [k.leases, k.token, k.meta, k.errors, k.retry, k.stats, k.replayA, k.replayB]
        assert.deepStrictEqual(yield* io.runScript(scripts().retry, retryKeys, retryArgs), [1])
        assert.deepStrictEqual(yield* io.runScript(scripts().retry, retryKeys, retryArgs), [1])
        const ackKeys = [k.leases, k.token, k.meta, k.payload, k.errors, k.stats, k.completed, k.replayA, k.replayB]
        const ackArgs = ["", "-1", "-1", a!.id, a!.token]
        assert.deepStrictEqual(yield* io.runScript(scripts().ack, ackKeys, ackArgs), [1])
        assert.deepStrictEqual(yield* io.runScript(scripts().ack, ackKeys, ackArgs), [1])
        // Without the replay records, the second run would not know the lease was settled.
        yield* io.send("DEL", k.replayA, k.replayB)
        assert.deepStrictEqual(yield* io.runScript(scripts().ack, ackKeys, ackArgs), [0])
        const stats = yield* store.stats
        assert.strictEqual(stats.processed, 1)
        assert.strictEqual(stats.failed, 1)
        assert.strictEqual(stats.retry, 1)
      })
    )
  )

  it.live("never reuses a lease token, even for a re-enqueued id", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("a"), newJob("b")])
        const [a, b] = yield* claimAll(store, 2)
        assert.notStrictEqual(a!.token, b!.token)
        assert.strictEqual(yield* store.ack([{ id: "a", token: a!.token }]), 1)
        yield* store.enqueue([newJob("a")])
        const [again] = yield* claimAll(store, 1)
        assert.notStrictEqual(again!.token, a!.token)
        // The first run's holder cannot settle the second run (its ack is answered as a replay).
        assert.strictEqual(
          yield* store.retry({ id: "a", token: a!.token }, { delayMillis: 0, countAttempt: true }),
          false
        )
        assert.strictEqual(yield* store.ack([{ id: "a", token: a!.token }]), 1)
        assert.strictEqual(Option.getOrThrow(yield* store.get("a")).state, "leased")
        assert.isAbove(again!.fence, a!.fence)
      })
    )
  )

  // it.effect: the client's clock is the TestClock, stuck at 1970; due times must not care.
  it.effect("judges due times by Redis TIME, not by the client's clock", () =>
    withStore((store) =>
      Effect.gen(function* () {
        assert.strictEqual(yield* Clock.currentTimeMillis, 0)
        const realNow = Date.now()
        yield* store.enqueue([newJob("later", { delayMillis: 60_000 }), newJob("now")])
        const later = Option.getOrThrow(yield* store.get("later"))
        assert.strictEqual(later.runAt - later.enqueuedAt, 60_000)
        assert.isAtLeast(later.enqueuedAt, realNow - 5_000)
        assert.isAtMost(later.enqueuedAt, realNow + 5_000)
        // A client a minute ahead would have run "later" by now on its own clock.
        yield* TestClock.adjust(Duration.minutes(2))
        assert.deepStrictEqual(
          (yield* claimAll(store, 10)).map((j) => j.id),
          ["now"]
        )
        assert.strictEqual(Option.getOrThrow(yield* store.get("later")).state, "scheduled")
      })
    )
  )

  it.live("keeps job ids unique across queues, taking over an id whose enqueue stopped half way", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        // A crash after reserving the id and before writing the job leaves the id recorded; past
        // the grace (0 ms here) another queue takes it over.
        yield* io.runScript(scripts().reserveIds, [RedisKeys.idsIndex(prefix)], ["mail", 60_000, "orphan"])
        yield* io.send("HSET", RedisKeys.idsIndex(prefix), "orphan", "mail@1000")
        assert.deepStrictEqual(yield* store.enqueue([newJob("orphan")]), [{ id: "orphan", outcome: "enqueued" }])
        assert.strictEqual(Option.getOrThrow(yield* store.get("orphan")).queue, "default")
        assert.deepStrictEqual(yield* store.enqueue([newJob("orphan", { queue: "mail" })]), [
          { id: "orphan", outcome: "duplicate" }
        ])
        // Once completed, the id is free again, in any queue (freed in the background, at once).
        const [claimed] = yield* claimAll(store, 1)
        assert.strictEqual(yield* store.ack([{ id: claimed!.id, token: claimed!.token }]), 1)
        for (let i = 0; i < 100 && (yield* io.send("HGET", RedisKeys.idsIndex(prefix), "orphan")) !== null; i++)
          yield* Effect.sleep("5 millis")
        assert.deepStrictEqual(yield* store.enqueue([newJob("orphan", { queue: "mail" })]), [
          { id: "orphan", outcome: "enqueued" }
        ])
        assert.strictEqual(Option.getOrThrow(yield* store.get("orphan")).queue, "mail")
      })
    )
  )

  it.live("with retention, frees the id of an acked job whose record had vanished", () =>
    withStore(
      (store, io, prefix) =>
        Effect.gen(function* () {
          const k = RedisKeys.queueKeys(prefix, "default")
          yield* store.enqueue([newJob("vanished")])
          const [claimed] = yield* claimAll(store, 1)
          // Someone deleted the record by hand while the job ran.
          yield* io.send("HDEL", k.meta, "vanished")
          assert.strictEqual(yield* store.ack([{ id: claimed!.id, token: claimed!.token }]), 1)
          assert.isTrue(Option.isNone(yield* store.get("vanished")))
          // Nothing is kept for it, so the id index lets go of it (in the background).
          const indexed = () => io.send("HGET", RedisKeys.idsIndex(prefix), "vanished")
          for (let i = 0; i < 100 && (yield* indexed()) !== null; i++) yield* Effect.sleep("5 millis")
          assert.strictEqual(yield* indexed(), null)
          assert.deepStrictEqual(yield* store.enqueue([newJob("vanished")]), [{ id: "vanished", outcome: "enqueued" }])
        }),
      { completed: { keepLast: 3 } }
    )
  )

  it.live("keeps the 25 newest errors of a job, counting the dropped ones first", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("flaky")])
        for (let attempt = 1; attempt <= 30; attempt++) {
          const [claimed] = yield* claimAll(store, 1)
          const error = { attempt, tag: "Boom", message: `line\nbreak ${attempt}`, cause: "…", at: attempt }
          yield* store.retry({ id: claimed!.id, token: claimed!.token }, { delayMillis: 0, countAttempt: true, error })
        }
        const errors = Option.getOrThrow(yield* store.get("flaky")).errors
        assert.strictEqual(errors.length, 26)
        assert.strictEqual(errors[0]!.tag, "ErrorsDropped")
        assert.match(errors[0]!.message, /^5 older failed attempt/)
        assert.strictEqual(errors[1]!.attempt, 6)
        assert.strictEqual(errors[25]!.message, "line\nbreak 30")
      })
    )
  )

  it.live("pages the dead set newest first across queues", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* killAll(store, ["a1"], "a")
        yield* killAll(store, ["b1"], "b")
        yield* killAll(store, ["a2"], "a")
        const page = yield* store.list("dead", { offset: 0, limit: 2 })
        assert.deepStrictEqual(
          page.jobs.map((j) => j.id),
          ["a2", "b1"]
        )
        assert.strictEqual(page.total, 3)
        assert.strictEqual(yield* store.retryNow("dead", ["b1", "a1"]), 2)
        assert.deepStrictEqual(
          (yield* claimAll(store, 5, ["a", "b"])).map((j) => j.id),
          ["a1", "b1"]
        )
      })
    )
  )

  /** How many script calls the server has run so far. */
  const evalshaCalls = (url: string) =>
    Effect.promise(() => command(url, "INFO", "commandstats")).pipe(
      Effect.map((info) => Number(/cmdstat_evalsha:calls=(\d+)/.exec(String(info))?.[1] ?? 0))
    )

  it.live("coalesces concurrent single enqueues of generated ids, answering every caller in order", () =>
    Effect.gen(function* () {
      const server = yield* ownServer()
      yield* withStore(
        (store, io, prefix) =>
          Effect.gen(function* () {
            const before = yield* evalshaCalls(server.url)
            // 300 at once: more than a chunk resumes at one go (its callers are answered in two halves).
            const ids = Array.from({ length: 300 }, (_, i) => `g${i}`)
            const results = yield* Effect.forEach(
              ids,
              (id, i) =>
                store.enqueue([newJob(id, { idGenerated: true, ...(i % 3 === 0 ? { delayMillis: 60_000 } : {}) })]),
              { concurrency: "unbounded" }
            )
            assert.strictEqual((yield* evalshaCalls(server.url)) - before, 1)
            assert.deepStrictEqual(
              results.map((r) => r[0]),
              ids.map((id, i) => ({ id, outcome: i % 3 === 0 ? "scheduled" : "enqueued" }))
            )
            const k = RedisKeys.queueKeys(prefix, "default")
            assert.deepStrictEqual(
              yield* io.send("LRANGE", k.ready, 0, -1),
              ids.filter((_, i) => i % 3 !== 0)
            )
          }),
        { url: server.url }
      )
    }).pipe(Effect.scoped)
  )

  /**
   * Claims 50 jobs on a server of its own, settles them all at once with `settle`, then hands
   * the answers and the script calls they took (settling included, nothing else) to `check`.
   * `kept`: how many of the 50 ids stay in the id index (jobs the settlement keeps).
   */
  const settleFiftyAtOnce = <A>(
    kept: number,
    settle: (
      store: QueueStore.QueueStore["Service"],
      job: JobRecord.ClaimedJob,
      i: number
    ) => Effect.Effect<A, QueueStore.QueueStoreError>,
    check: (
      store: QueueStore.QueueStore["Service"],
      answers: ReadonlyArray<A>,
      calls: number
    ) => Effect.Effect<void, QueueStore.QueueStoreError>
  ) =>
    Effect.gen(function* () {
      const server = yield* ownServer()
      yield* withStore(
        (store, io, prefix) =>
          Effect.gen(function* () {
            yield* store.enqueue(Array.from({ length: 50 }, (_, i) => newJob(`j${i}`)))
            const claims = yield* claimAll(store, 50)
            const before = yield* evalshaCalls(server.url)
            const answers = yield* Effect.forEach(claims, (job, i) => settle(store, job, i), {
              concurrency: "unbounded"
            })
            // Freeing ids in the index may follow the settlement itself: wait until the index
            // holds only the ids of jobs still in the store.
            const indexed = () => io.send("HLEN", RedisKeys.idsIndex(prefix)).pipe(Effect.map(Number))
            for (let i = 0; i < 200 && (yield* indexed()) !== kept; i++) yield* Effect.sleep("5 millis")
            assert.strictEqual(yield* indexed(), kept, "the ids of settled jobs are freed")
            yield* check(store, answers, (yield* evalshaCalls(server.url)) - before)
          }),
        { url: server.url }
      )
    }).pipe(Effect.scoped)

  it.live("coalesces concurrent acks into one script call per queue", () =>
    settleFiftyAtOnce(
      0,
      (store, job) => store.ack([{ id: job.id, token: job.token }]),
      (_, settled, calls) =>
        Effect.sync(() => {
          assert.strictEqual(
            settled.reduce((a, b) => a + b, 0),
            50
          )
          // One ack call and one call freeing the ids (instead of 50 + 50).
          assert.isAtMost(calls, 2)
        })
    )
  )

  it.live("coalesces concurrent retries into one script call per queue", () =>
    settleFiftyAtOnce(
      50,
      (store, job, i) =>
        store.retry(
          { id: job.id, token: i === 0 ? "default|stale:1" : job.token },
          { delayMillis: 60_000, countAttempt: i % 2 === 0 }
        ),
      (store, moved, calls) =>
        Effect.gen(function* () {
          // Each job gets its own answer: the stale token moved nothing.
          assert.deepStrictEqual(
            moved,
            moved.map((_, i) => i !== 0)
          )
          assert.strictEqual(calls, 1)
          const stats = yield* store.stats
          assert.strictEqual(stats.retry, 49)
          assert.strictEqual(stats.failed, 24)
          assert.strictEqual(stats.leased, 1)
          assert.strictEqual((yield* store.list("retry", { offset: 0, limit: 100 })).total, 49)
        })
    )
  )

  it.live("claims and acks batches far past Lua's unpack limit in one call each", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const n = 9_000
        const ids = Array.from({ length: n }, (_, i) => `big${i}`)
        // Generated ids skip the id index, as a client's would.
        yield* store.enqueue(ids.map((id) => newJob(id, { idGenerated: true })))
        const claims = yield* claimAll(store, n)
        assert.strictEqual(claims.length, n)
        assert.strictEqual(new Set(claims.map((c) => c.token)).size, n)
        const result = yield* store.ackAndClaim(
          claims.map((c) => ({ id: c.id, token: c.token })),
          { queues: ["default"], limit: 10, owner: "w", leaseMillis: 60_000 }
        )
        assert.isTrue(result.acked.every((held) => held === true))
        assert.deepStrictEqual(result.jobs, [])
        const stats = yield* store.stats
        assert.strictEqual(stats.processed, n)
        assert.strictEqual(stats.leased, 0)
      })
    )
  )

  it.live("fails only the retry whose record is broken; the others of its call are moved", () =>
    withStore((store, io, prefix) =>
      Effect.gen(function* () {
        yield* store.enqueue([newJob("a"), newJob("b"), newJob("c")])
        const [a, b, c] = yield* claimAll(store, 3)
        yield* io.send("HSET", RedisKeys.queueKeys(prefix, "default").meta, "b", "not a record")
        const results = yield* Effect.forEach(
          [a!, b!, c!],
          (job) =>
            Effect.result(store.retry({ id: job.id, token: job.token }, { delayMillis: 60_000, countAttempt: true })),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          results.map((r) => r._tag),
          ["Success", "Failure", "Success"]
        )
        assert.strictEqual((yield* store.stats).retry, 2)
      })
    )
  )

  it.live("wakes an idle worker on another connection when work arrives, and at the due time", () =>
    Effect.gen(function* () {
      const prefix = redis.prefix()
      const waiter = yield* storeOf({ url: redis.url, prefix })
      const producer = yield* storeOf({ url: redis.url, prefix })
      yield* waiter.awaitWork(["default"], 10)
      const start = performance.now()
      const fiber = yield* Effect.forkChild(Effect.map(waiter.awaitWork(["default"], 10_000), () => performance.now()))
      yield* subscribed([redis.url], [RedisKeys.queueKeys(prefix, "default").wake])
      assert.isUndefined(fiber.pollUnsafe(), "waits while the queue is empty")
      const sent = performance.now()
      yield* producer.enqueue([newJob("a")])
      const woke = yield* Fiber.join(fiber)
      assert.isAtLeast(woke, start)
      assert.isBelow(woke - sent, 5_000, "woken by the enqueue, not by maxWaitMillis")
      yield* Effect.forEach(yield* claimAll(waiter, 1), (c) => waiter.ack([{ id: c.id, token: c.token }]))
      yield* producer.enqueue([newJob("due", { delayMillis: 300 })])
      const scheduledAt = performance.now()
      // As a worker does: wait, claim, and wait again after a wake-up that brought nothing.
      let claimed: ReadonlyArray<{ readonly id: string }> = []
      for (let round = 0; round < 20 && claimed.length === 0; round++) {
        yield* waiter.awaitWork(["default"], 10_000)
        claimed = yield* claimAll(waiter, 1)
      }
      const due = performance.now() - scheduledAt
      assert.deepStrictEqual(
        claimed.map((j) => j.id),
        ["due"]
      )
      assert.isAtLeast(due, 250, "not claimed before it was due")
      // The due time is judged by Redis TIME and the client's timer: 1 s of slack for a busy machine.
      assert.isBelow(due, 300 + 1_000, "claimed close to its due time")
      console.log(
        `wake-up on enqueue from another connection: ${(woke - sent).toFixed(2)} ms; ` +
          `a job scheduled 300 ms ahead was claimed after ${due.toFixed(1)} ms`
      )
    }).pipe(Effect.scoped)
  )
})

describe("RedisProcessRegistry", () => {
  it.live("lists live processes oldest first and forgets removed and expired ones", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(quietBackend({ url: redis.url, prefix: redis.prefix() }))
      const registry = Context.get(context, ProcessRegistry.ProcessRegistry)
      const info = (id: string, startedAt: number): ProcessRegistry.ProcessInfo => ({
        id,
        hostname: "host",
        pid: 1,
        queues: [{ name: "default", weight: 1 }],
        strict: false,
        concurrency: 5,
        startedAt,
        quiet: false,
        running: [{ id: "j1", name: "Test", queue: "default", attempt: 1, startedAt }],
        beatAt: startedAt
      })
      yield* registry.heartbeat(info("second", 2), 60_000)
      yield* registry.heartbeat(info("first", 1), 60_000)
      yield* registry.heartbeat(info("short", 3), 100)
      assert.deepStrictEqual(
        (yield* registry.list).map((p) => p.id),
        ["first", "second", "short"]
      )
      assert.deepStrictEqual((yield* registry.list)[0], info("first", 1))
      yield* registry.remove("second")
      assert.deepStrictEqual(
        (yield* registry.list).map((p) => p.id),
        ["first", "short"]
      )
      // "short" beat with a 100 ms time to live: gone once that has passed.
      const listed = () => Effect.map(registry.list, (list) => list.map((p) => p.id).join(","))
      for (let i = 0; i < 100 && (yield* listed()) !== "first"; i++) yield* Effect.sleep("10 millis")
      assert.strictEqual(yield* listed(), "first")
    }).pipe(Effect.scoped)
  )
})
