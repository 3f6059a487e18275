/**
 * The executable specification of the `QueueStore` contract.
 *
 * Every store (memory in core, Redis in `@effect-jobs/redis`) runs this one suite. Each test
 * builds its own store from the layer, so a Redis layer can hand out a fresh key prefix per
 * test. Time moves through `advance`: `TestClock.adjust` for stores on Effect's `Clock`, a
 * real (short) sleep for stores whose clock is a server's, so every delay here stays small.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, type Layer, Option, type Scope } from "effect"
import { TestClock } from "effect/testing"
import type { AttemptError, ClaimedJob, Lease, StoredJob } from "../../src/JobRecord.ts"
import * as JobRecord from "../../src/JobRecord.ts"
import * as QueueStore from "../../src/QueueStore.ts"

/** How the suite moves time for the store under test. */
export interface SuiteOptions {
  /** "test-clock": run under it.effect and advance time with TestClock.adjust (memory store).
   *  "live": run under it.live and advance time by really sleeping (Redis store, whose clock is Redis TIME). */
  readonly clock: "test-clock" | "live"
  /** The same store with these limits (a fresh one per build, like `layer`). */
  readonly withLimits: (limits: StoreLimits) => Layer.Layer<QueueStore.QueueStore, unknown>
}

/** Limits a store takes as options, in the shape both stores' options share. */
export interface StoreLimits {
  readonly deadSet?: Partial<QueueStore.DeadSetLimits> | undefined
  readonly completed?: QueueStore.CompletedRetention | undefined
}

type Store = QueueStore.QueueStore["Service"]

const owner = "worker-1"
/** A lease that never runs out within a test. */
const longLease = 60_000
/** A lease a test lets run out with `advance(pastShortLease)`. */
const shortLease = 200
const pastShortLease = 250
/** A delay a test lets pass with `advance(pastSoon)`. */
const soon = 150
const pastSoon = 200
/** A delay that never passes within a test. */
const far = 60_000
/** Slack for a live store: real sleeps overshoot, and the server's clock is not ours. */
const liveMargin = 25

const job = (id: string, extra?: Partial<QueueStore.NewJob>): QueueStore.NewJob => ({
  id,
  name: "Test",
  queue: "default",
  payload: JSON.stringify({ id }),
  ...extra
})

const attemptError = (attempt: number, message: string): AttemptError => ({
  attempt,
  tag: "MailerDown",
  message,
  cause: `MailerDown: ${message}\n    at handler (mailer.ts:1:1)`,
  at: 1_700_000_000_000 + attempt
})

const leaseOf = (claimed: ClaimedJob): Lease => ({ id: claimed.id, token: claimed.token })
const ids = (jobs: ReadonlyArray<{ readonly id: string }>) => jobs.map((j) => j.id)
const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/** Registers the QueueStore conformance suite against a store layer. */
export const suite = (
  name: string,
  layer: Layer.Layer<QueueStore.QueueStore, unknown>,
  options: SuiteOptions
): void => {
  const live = options.clock === "live"
  const register = live ? it.live : it.effect

  /** One test on a fresh store. */
  const test = (title: string, body: (store: Store) => Effect.Effect<void, unknown, Scope.Scope>) =>
    register(title, () =>
      Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        yield* body(store)
      }).pipe(Effect.provide(layer, { local: true }))
    )
  /** One test on a fresh store with these limits. */
  const testWith = (
    title: string,
    limits: StoreLimits,
    body: (store: Store) => Effect.Effect<void, unknown, Scope.Scope>
  ) =>
    register(title, () =>
      Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        yield* body(store)
      }).pipe(Effect.provide(options.withLimits(limits), { local: true }))
    )

  /** Lets `millis` pass on the store's clock (live: a little more, so a due time is surely past). */
  const advance = (millis: number): Effect.Effect<void> =>
    live ? Effect.sleep(millis + liveMargin) : TestClock.adjust(millis)

  /** Lets forked fibers run until they suspend. */
  const settle = Effect.gen(function* () {
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow
  })

  const isRunning = <A, E>(fiber: Fiber.Fiber<A, E>) =>
    Effect.gen(function* () {
      yield* settle
      return fiber.pollUnsafe() === undefined
    })

  /** Whether the fiber ends now (test clock) or within a short real wait (live). */
  const endsSoon = <A, E>(fiber: Fiber.Fiber<A, E>) =>
    live
      ? Fiber.join(fiber).pipe(Effect.timeoutOption(500), Effect.map(Option.isSome))
      : Effect.gen(function* () {
          yield* settle
          const exit = fiber.pollUnsafe()
          if (exit !== undefined) yield* exit
          return exit !== undefined
        })

  /** Asserts that `self` returns once `millis` have passed on the store's clock, and not before. */
  const assertReturnsAfter = <E>(self: Effect.Effect<void, E>, millis: number) =>
    Effect.gen(function* () {
      if (live) {
        const start = yield* Clock.currentTimeMillis
        const done = yield* self.pipe(Effect.timeoutOption(millis + 1_000))
        const elapsed = (yield* Clock.currentTimeMillis) - start
        assert.isTrue(Option.isSome(done), `returned within ${millis + 1_000} ms`)
        assert.isAtLeast(elapsed, millis - 2 * liveMargin, "did not return before it was due")
        return
      }
      const fiber = yield* Effect.forkChild(self)
      yield* settle
      yield* TestClock.adjust(millis - 1)
      assert.isTrue(yield* isRunning(fiber), "still waiting 1 ms before it is due")
      yield* TestClock.adjust(1)
      assert.isTrue(yield* endsSoon(fiber), "returned when due")
    })

  /** Asserts a duration the store measured: exact on the test clock, within real-time slack when live. */
  const assertAbout = (actual: number, expected: number, message: string) => {
    if (live) {
      assert.isAtLeast(actual, expected - 5, message)
      assert.isBelow(actual, expected + 1_000, message)
    } else {
      assert.strictEqual(actual, expected, message)
    }
  }

  /**
   * Runs `attempt` until it returns true: once on the test clock; on a live store every 10 ms
   * for up to 2 s (for work a store may finish just after its reply, as Redis frees ids).
   */
  const eventually = (attempt: Effect.Effect<boolean, unknown>, message: string) =>
    Effect.gen(function* () {
      const deadline = Date.now() + 2_000
      let ok = yield* attempt
      while (!ok && live && Date.now() < deadline) {
        yield* Effect.sleep(10)
        ok = yield* attempt
      }
      assert.isTrue(ok, message)
    })
  /** Whether enqueueing `id` now writes a new job (its id is free). */
  const enqueuesAnew = (store: Store, id: string, queue = "default") =>
    store.enqueue([job(id, { queue })]).pipe(Effect.map((results) => results[0]?.outcome === "enqueued"))

  const find = (store: Store, id: string): Effect.Effect<StoredJob, unknown> =>
    store
      .get(id)
      .pipe(
        Effect.flatMap((found) =>
          Option.isSome(found) ? Effect.succeed(found.value) : Effect.die(new Error(`job ${id} is not in the store`))
        )
      )
  const isGone = (store: Store, id: string) => store.get(id).pipe(Effect.map(Option.isNone))
  const claim = (
    store: Store,
    options?: { queues?: ReadonlyArray<string>; limit?: number; owner?: string; leaseMillis?: number }
  ) =>
    store.claim({
      queues: options?.queues ?? ["default"],
      limit: options?.limit ?? 1,
      owner: options?.owner ?? owner,
      leaseMillis: options?.leaseMillis ?? longLease
    })
  /** Enqueues then claims the given jobs (all in "default"), returning their claims in order. */
  const claimed = (store: Store, jobIds: ReadonlyArray<string>, leaseMillis = longLease) =>
    Effect.gen(function* () {
      yield* store.enqueue(jobIds.map((id) => job(id)))
      const claims = yield* claim(store, { limit: jobIds.length, leaseMillis })
      assert.deepStrictEqual(ids(claims), jobIds)
      return claims
    })
  /** Asserts that no settlement made with `old` is taken (each answers "not held") and renewing it reports it lost. */
  const assertEverySettlementRefused = (store: Store, old: Lease) =>
    Effect.gen(function* () {
      assert.strictEqual(yield* store.ack([old]), 0)
      assert.isFalse(yield* store.retry(old, { delayMillis: 0, countAttempt: true, error: attemptError(1, "late") }))
      assert.isFalse(yield* store.kill(old, { reason: "late", error: attemptError(1, "late") }))
      assert.isFalse(yield* store.discard(old))
      assert.isFalse(yield* store.requeue(old))
      assert.deepStrictEqual(yield* store.extendLeases([old], longLease), [old.id])
    })
  /** Asserts the store-wide counters. */
  const assertCounts = (
    store: Store,
    expected: { processed: number; failed: number; leased: number; retry: number; dead: number }
  ) =>
    Effect.map(store.stats, ({ processed, failed, leased, retry, dead }) =>
      assert.deepStrictEqual({ processed, failed, leased, retry, dead }, expected)
    )
  const queueStats = (store: Store, queue: string) =>
    store.stats.pipe(
      Effect.flatMap((stats) => {
        const found = stats.queues.find((q) => q.name === queue)
        return found === undefined ? Effect.die(new Error(`queue ${queue} is not in stats`)) : Effect.succeed(found)
      })
    )

  describe(name, () => {
    describe("enqueue", () => {
      test("enqueues a job without a delay as ready", (store) =>
        Effect.gen(function* () {
          const results = yield* store.enqueue([job("a")])
          assert.deepStrictEqual(results, [{ id: "a", outcome: "enqueued" }])
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "ready")
          assert.strictEqual(stored.name, "Test")
          assert.strictEqual(stored.queue, "default")
          assert.strictEqual(stored.attempt, 0)
          assert.deepStrictEqual(stored.errors, [])
          assert.strictEqual(stored.runAt, stored.enqueuedAt)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["a"])
        }))

      test("schedules a job with a delay for that long after the store's now", (store) =>
        Effect.gen(function* () {
          const results = yield* store.enqueue([job("a", { delayMillis: soon })])
          assert.deepStrictEqual(results, [{ id: "a", outcome: "scheduled" }])
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "scheduled")
          assert.strictEqual(stored.runAt - stored.enqueuedAt, soon)
          assert.deepStrictEqual(yield* claim(store), [])
          yield* advance(pastSoon)
          assert.deepStrictEqual(ids(yield* claim(store)), ["a"])
        }))

      test("schedules a job at runAtMillis, which wins over delayMillis", (store) =>
        Effect.gen(function* () {
          const runAt = (yield* Clock.currentTimeMillis) + soon
          const results = yield* store.enqueue([job("a", { runAtMillis: runAt, delayMillis: far })])
          assert.deepStrictEqual(results, [{ id: "a", outcome: "scheduled" }])
          assert.strictEqual((yield* find(store, "a")).runAt, runAt)
          assert.deepStrictEqual(yield* claim(store), [])
          yield* advance(pastSoon)
          assert.deepStrictEqual(ids(yield* claim(store)), ["a"])
        }))

      test("keeps a due time past 2070 exact, up to 2200-01-01", (store) =>
        Effect.gen(function* () {
          const at2080 = Date.UTC(2080, 5, 1, 12, 30, 15, 123)
          yield* store.enqueue([
            job("late", { runAtMillis: at2080 }),
            job("last", { runAtMillis: JobRecord.maxRunAtMillis })
          ])
          assert.strictEqual((yield* find(store, "late")).runAt, at2080)
          assert.strictEqual((yield* find(store, "last")).runAt, JobRecord.maxRunAtMillis)
          const page = yield* store.list("scheduled", { offset: 0, limit: 10 })
          assert.deepStrictEqual(ids(page.jobs), ["late", "last"])
        }))

      test("refuses a due time after 2200-01-01 or a delay over 100 years, naming the limit, writing none", (store) =>
        Effect.gen(function* () {
          for (const timing of [
            { runAtMillis: JobRecord.maxRunAtMillis + 1 },
            { delayMillis: JobRecord.maxDelayMillis + 1 }
          ]) {
            const error = yield* Effect.flip(store.enqueue([job("fine"), job("far", timing)]))
            assert.include(error.message, timing.runAtMillis === undefined ? "100 years" : "2200-01-01T00:00:00.000Z")
            assert.isFalse(error.retryable)
            assert.isTrue(yield* isGone(store, "fine"))
            assert.isTrue(yield* isGone(store, "far"))
          }
        }))

      test("enqueues a job whose runAtMillis has passed as ready", (store) =>
        Effect.gen(function* () {
          const runAt = (yield* Clock.currentTimeMillis) - 1_000
          const results = yield* store.enqueue([job("a", { runAtMillis: runAt, delayMillis: far })])
          assert.deepStrictEqual(results, [{ id: "a", outcome: "enqueued" }])
          assert.deepStrictEqual(ids(yield* claim(store)), ["a"])
        }))

      test("reports an existing id as duplicate and keeps the original job", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { payload: `{"v":1}` })])
          const results = yield* store.enqueue([job("a", { payload: `{"v":2}`, queue: "other" }), job("b")])
          assert.deepStrictEqual(results, [
            { id: "a", outcome: "duplicate" },
            { id: "b", outcome: "enqueued" }
          ])
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.payload, `{"v":1}`)
          assert.strictEqual(stored.queue, "default")
          assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 2)
          assert.strictEqual((yield* store.listQueue("other", { offset: 0, limit: 10 })).total, 0)
        }))

      test("reports a duplicate wherever the existing job is and within one call", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("leased"), job("scheduled", { delayMillis: far })])
          yield* claim(store)
          const results = yield* store.enqueue([
            job("leased"),
            job("scheduled"),
            job("new", { payload: `"first"` }),
            job("new", { payload: `"second"` })
          ])
          assert.deepStrictEqual(
            results.map((r) => r.outcome),
            ["duplicate", "duplicate", "enqueued", "duplicate"]
          )
          assert.strictEqual((yield* find(store, "leased")).state, "leased")
          assert.strictEqual((yield* find(store, "scheduled")).state, "scheduled")
          assert.strictEqual((yield* find(store, "new")).payload, `"first"`)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["new"])
        }))

      test("refuses a batch with an empty id or one over 200 characters, writing none of it", (store) =>
        Effect.gen(function* () {
          const longest = "x".repeat(JobRecord.maxIdLength)
          for (const bad of ["", "y".repeat(JobRecord.maxIdLength + 1)]) {
            const error = yield* Effect.flip(store.enqueue([job("fine"), job(bad)]))
            assert.include(error.message, `job id must be 1-${JobRecord.maxIdLength} characters`)
            assert.isFalse(error.retryable)
            const single = yield* Effect.flip(store.enqueue([job(bad, { idGenerated: true })]))
            assert.include(single.message, "job id must be")
          }
          assert.isTrue(Option.isNone(yield* store.get("fine")))
          assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 0)
          assert.deepStrictEqual(yield* store.enqueue([job(longest)]), [{ id: longest, outcome: "enqueued" }])
          assert.deepStrictEqual(ids(yield* claim(store)), [longest])
        }))

      test("enqueues 1,000 jobs in one call and keeps their order", (store) =>
        Effect.gen(function* () {
          const jobIds = range(1_000, "bulk-")
          const results = yield* store.enqueue(jobIds.map((id) => job(id)))
          assert.deepStrictEqual(ids(results), jobIds)
          assert.isTrue(results.every((r) => r.outcome === "enqueued"))
          const listed = yield* store.listQueue("default", { offset: 0, limit: 1_000 })
          assert.strictEqual(listed.total, 1_000)
          assert.deepStrictEqual(ids(listed.jobs), jobIds)
          assert.deepStrictEqual(ids(yield* claim(store, { limit: 1_000 })), jobIds)
        }))

      test("keeps payload text byte for byte", (store) =>
        Effect.gen(function* () {
          const payloads = [
            `{"name":"Zoë Ünïcødé 日本語 🚀👩‍👩‍👧","rtl":"مرحبا"}`,
            `{"big":12345678901234567890123,"asString":"12345678901234567890123","float":0.1000000000000000055511151231257827}`,
            `{"nested":"{\\"a\\":[1,2,{\\"b\\":null}],\\"c\\":\\"\\\\u00e9\\"}"}`,
            `{ "spaced" :  [ 1 , 2 ] ,"escapes":"line\\nbreak\\ttab \\u0000 \\"quoted\\" \\\\ \\/"}`,
            `"just a string"`,
            `[]`,
            `null`
          ]
          const jobIds = payloads.map((_, i) => `p${i}`)
          yield* store.enqueue(payloads.map((payload, i) => job(jobIds[i]!, { payload })))
          for (const [i, id] of jobIds.entries()) assert.strictEqual((yield* find(store, id)).payload, payloads[i])
          assert.deepStrictEqual(
            (yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs.map((j) => j.payload),
            payloads
          )
          const claims = yield* claim(store, { limit: 10 })
          assert.deepStrictEqual(
            claims.map((j) => j.payload),
            payloads
          )
          yield* store.kill(leaseOf(claims[0]!), { reason: "inspect" })
          yield* store.retry(leaseOf(claims[1]!), { delayMillis: far, countAttempt: true })
          assert.strictEqual((yield* store.list("dead", { offset: 0, limit: 1 })).jobs[0]!.payload, payloads[0])
          assert.strictEqual((yield* store.list("retry", { offset: 0, limit: 1 })).jobs[0]!.payload, payloads[1])
        }))
    })

    describe("claim", () => {
      test("takes jobs of a queue oldest first", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a"), job("b"), job("c")])
          assert.deepStrictEqual(ids(yield* claim(store)), ["a"])
          assert.deepStrictEqual(ids(yield* claim(store, { limit: 5 })), ["b", "c"])
          assert.deepStrictEqual(yield* claim(store, { limit: 5 }), [])
        }))

      test("takes from the queues in the order given and honours the limit", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([
            job("low-1", { queue: "low" }),
            job("low-2", { queue: "low" }),
            job("high-1", { queue: "high" }),
            job("high-2", { queue: "high" })
          ])
          assert.deepStrictEqual(ids(yield* claim(store, { queues: ["high", "low"], limit: 3 })), [
            "high-1",
            "high-2",
            "low-1"
          ])
          assert.deepStrictEqual(ids(yield* claim(store, { queues: ["high", "low"], limit: 3 })), ["low-2"])
        }))

      test("takes nothing from queues not asked for", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { queue: "elsewhere" })])
          assert.deepStrictEqual(yield* claim(store, { queues: ["default"], limit: 5 }), [])
          assert.strictEqual((yield* find(store, "a")).state, "ready")
        }))

      test("skips paused queues", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { queue: "paused" }), job("b", { queue: "open" })])
          yield* store.pause("paused")
          assert.deepStrictEqual(ids(yield* claim(store, { queues: ["paused", "open"], limit: 5 })), ["b"])
          assert.strictEqual((yield* find(store, "a")).state, "ready")
        }))

      test("counts an attempt and hands out a lease with a token and deadline", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a")])
          const [claimedJob] = yield* claim(store, { leaseMillis: 30_000 })
          assert.isDefined(claimedJob)
          assert.strictEqual(claimedJob!.attempt, 1)
          assert.strictEqual(claimedJob!.name, "Test")
          assert.strictEqual(claimedJob!.queue, "default")
          assert.strictEqual(claimedJob!.payload, `{"id":"a"}`)
          assert.isString(claimedJob!.token)
          assert.isNotEmpty(claimedJob!.token)
          assert.strictEqual(claimedJob!.leaseDeadline - claimedJob!.claimedAt, 30_000)
          assert.isAtLeast(claimedJob!.claimedAt, claimedJob!.enqueuedAt)
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "leased")
          assert.strictEqual(stored.attempt, 1)
          assert.strictEqual((yield* store.stats).leased, 1)
        }))

      test("promotes due scheduled and retry jobs before taking", (store) =>
        Effect.gen(function* () {
          const [first] = yield* claimed(store, ["retried"])
          yield* store.retry(leaseOf(first!), { delayMillis: soon, countAttempt: true })
          yield* store.enqueue([job("scheduled", { delayMillis: soon })])
          assert.deepStrictEqual(yield* claim(store, { limit: 5 }), [])
          yield* advance(pastSoon)
          const claims = yield* claim(store, { limit: 5 })
          assert.sameMembers(ids(claims), ["retried", "scheduled"])
          assert.strictEqual(claims.find((j) => j.id === "retried")!.attempt, 2)
          assert.strictEqual(claims.find((j) => j.id === "scheduled")!.attempt, 1)
        }))

      test("does not take jobs that are not yet due", (store) =>
        Effect.gen(function* () {
          const [first] = yield* claimed(store, ["retried"])
          yield* store.retry(leaseOf(first!), { delayMillis: far, countAttempt: true })
          yield* store.enqueue([job("scheduled", { delayMillis: far })])
          yield* advance(pastSoon)
          assert.deepStrictEqual(yield* claim(store, { limit: 5 }), [])
          assert.strictEqual((yield* find(store, "retried")).state, "retry")
          assert.strictEqual((yield* find(store, "scheduled")).state, "scheduled")
        }))

      test("never hands the same job to two concurrent claims", (store) =>
        Effect.gen(function* () {
          const jobIds = range(60, "j")
          yield* store.enqueue(jobIds.map((id) => job(id)))
          const claims = yield* Effect.all(
            Array.from({ length: 12 }, (_, i) => claim(store, { owner: `worker-${i}`, limit: 7 })),
            { concurrency: "unbounded" }
          )
          const taken = claims.flatMap(ids)
          assert.strictEqual(taken.length, 60)
          assert.sameMembers(taken, jobIds)
        }))
    })

    describe("extendLeases", () => {
      test("keeps a lease alive past its first deadline so reap leaves it", (store) =>
        Effect.gen(function* () {
          // Lease 300 ms; extended at 150 ms to 450 ms; reaped at 350 ms.
          const [first] = yield* claimed(store, ["a"], 300)
          yield* advance(150)
          assert.deepStrictEqual(yield* store.extendLeases([leaseOf(first!)], 300), [])
          yield* advance(200)
          assert.strictEqual(yield* store.reap, 0)
          assert.strictEqual((yield* find(store, "a")).state, "leased")
          assert.strictEqual(yield* store.ack([leaseOf(first!)]), 1)
        }))

      test("reports the ids whose lease is no longer held", (store) =>
        Effect.gen(function* () {
          const [a, b, c] = yield* claimed(store, ["a", "b", "c"])
          yield* store.ack([leaseOf(a!)])
          const lost = yield* store.extendLeases(
            [leaseOf(a!), { id: b!.id, token: `${b!.token}-wrong` }, leaseOf(c!), { id: "missing", token: "x" }],
            longLease
          )
          assert.sameMembers([...lost], ["a", "b", "missing"])
          assert.strictEqual((yield* find(store, "b")).state, "leased")
          assert.strictEqual(yield* store.ack([leaseOf(b!), leaseOf(c!)]), 2)
        }))
    })

    describe("ack", () => {
      test("removes the job and counts it processed", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.strictEqual(yield* store.ack([leaseOf(a!)]), 1)
          assert.isTrue(yield* isGone(store, "a"))
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 1)
          assert.strictEqual(stats.failed, 0)
          assert.strictEqual(stats.leased, 0)
        }))

      test("changes nothing and returns 0 for a wrong token", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.strictEqual(yield* store.ack([{ id: "a", token: `${a!.token}-wrong` }]), 0)
          assert.strictEqual(yield* store.ack([{ id: "missing", token: a!.token }]), 0)
          assert.strictEqual((yield* find(store, "a")).state, "leased")
          assert.strictEqual((yield* store.stats).processed, 0)
        }))

      test("counts a lease once when it is acked twice, and answers the second ack as the first", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.strictEqual(yield* store.ack([leaseOf(a!)]), 1)
          // A replay (the first reply may have been lost): answered as the first, nothing counted.
          assert.strictEqual(yield* store.ack([leaseOf(a!)]), 1)
          assert.strictEqual(yield* store.ack([leaseOf(a!), leaseOf(a!)]), 2)
          assert.strictEqual((yield* store.stats).processed, 1)
          // Another settlement of the completed lease is refused.
          assert.isFalse(yield* store.retry(leaseOf(a!), { delayMillis: 0, countAttempt: true }))
          assert.isFalse(yield* store.kill(leaseOf(a!), { reason: "late" }))
          assert.isTrue(yield* isGone(store, "a"))
        }))

      test("completes a lease given twice in one call once", (store) =>
        Effect.gen(function* () {
          const [a, b] = yield* claimed(store, ["a", "b"])
          yield* store.ack([leaseOf(a!), leaseOf(a!)])
          yield* store.ackAndClaim([leaseOf(b!), leaseOf(b!)], {
            queues: ["default"],
            limit: 0,
            owner,
            leaseMillis: longLease
          })
          assert.isTrue(yield* isGone(store, "a"))
          assert.isTrue(yield* isGone(store, "b"))
          yield* assertCounts(store, { processed: 2, failed: 0, leased: 0, retry: 0, dead: 0 })
        }))

      test("acks many leases in one call", (store) =>
        Effect.gen(function* () {
          const claims = yield* claimed(store, range(100, "j"))
          const leases = [...claims.map(leaseOf), { id: "j0", token: "wrong" }]
          assert.strictEqual(yield* store.ack(leases), 100)
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 100)
          assert.strictEqual(stats.leased, 0)
          assert.isTrue(yield* isGone(store, "j99"))
        }))
    })

    describe("ackAndClaim", () => {
      const claimOptions = (limit: number, queues: ReadonlyArray<string> = ["default"]) => ({
        queues,
        limit,
        owner,
        leaseMillis: longLease
      })

      test("completes the acked jobs, then leases the next ones, in one call", (store) =>
        Effect.gen(function* () {
          const [a, b] = yield* claimed(store, ["a", "b"])
          yield* store.enqueue([job("c"), job("d"), job("e")])
          const result = yield* store.ackAndClaim(
            [leaseOf(a!), { id: "b", token: `${b!.token}-wrong` }, leaseOf(b!)],
            claimOptions(2)
          )
          assert.deepStrictEqual(result.acked, [true, false, true])
          assert.deepStrictEqual(ids(result.jobs), ["c", "d"])
          assert.isTrue(result.jobs.every((j) => j.attempt === 1))
          assert.isTrue(yield* isGone(store, "a"))
          assert.isTrue(yield* isGone(store, "b"))
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 2)
          assert.strictEqual(stats.leased, 2)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["e"])
        }))

      test("with a limit of 0 or nothing ready it only acks; an ack repeated answers as the first", (store) =>
        Effect.gen(function* () {
          const [a, b] = yield* claimed(store, ["a", "b"])
          const first = yield* store.ackAndClaim([leaseOf(a!)], claimOptions(0))
          assert.deepStrictEqual(first, { acked: [true], jobs: [] })
          const second = yield* store.ackAndClaim([leaseOf(a!), leaseOf(b!)], claimOptions(5))
          assert.deepStrictEqual(second, { acked: [true, true], jobs: [] })
          assert.strictEqual((yield* store.stats).processed, 2)
          const stale = yield* store.ackAndClaim([{ id: "a", token: "never-issued" }], claimOptions(5))
          assert.deepStrictEqual(stale, { acked: [false], jobs: [] })
        }))

      test("acks jobs of queues the claim does not reach", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("m1", { queue: "mail" }), job("r1", { queue: "reports" })])
          const [m1] = yield* claim(store, { queues: ["mail"] })
          const [r1] = yield* claim(store, { queues: ["reports"] })
          yield* store.enqueue([job("m2", { queue: "mail" }), job("d1")])
          // The limit is filled from "default" first; "mail" and "reports" are never claimed from.
          const result = yield* store.ackAndClaim(
            [leaseOf(r1!), leaseOf(m1!)],
            claimOptions(1, ["default", "mail", "reports"])
          )
          assert.deepStrictEqual(result.acked, [true, true])
          assert.deepStrictEqual(ids(result.jobs), ["d1"])
          assert.isTrue(yield* isGone(store, "m1"))
          assert.isTrue(yield* isGone(store, "r1"))
          assert.strictEqual((yield* find(store, "m2")).state, "ready")
        }))

      test("on a paused queue leases nothing but still completes the acks", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          yield* store.enqueue([job("b")])
          yield* store.pause("default")
          const result = yield* store.ackAndClaim([leaseOf(a!)], claimOptions(5))
          assert.deepStrictEqual(result, { acked: [true], jobs: [] })
          assert.strictEqual((yield* find(store, "b")).state, "ready")
        }))
    })

    describe("retry", () => {
      test("moves the job to the retry set until its delay has passed", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.isTrue(yield* store.retry(leaseOf(a!), { delayMillis: soon, countAttempt: true }))
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "retry")
          assert.strictEqual(stored.attempt, 1)
          const stats = yield* store.stats
          assert.strictEqual(stats.retry, 1)
          assert.strictEqual(stats.leased, 0)
          assert.strictEqual(stats.failed, 1)
          assert.deepStrictEqual(yield* claim(store), [])
          yield* advance(pastSoon)
          const [again] = yield* claim(store)
          assert.strictEqual(again?.id, "a")
          assert.strictEqual(again?.attempt, 2)
        }))

      test("appends the error to the job's errors, oldest first", (store) =>
        Effect.gen(function* () {
          const [first] = yield* claimed(store, ["a"])
          yield* store.retry(leaseOf(first!), { delayMillis: 0, countAttempt: true, error: attemptError(1, "boom") })
          assert.deepStrictEqual((yield* find(store, "a")).errors, [attemptError(1, "boom")])
          const [second] = yield* claim(store)
          assert.deepStrictEqual(second?.errors, [attemptError(1, "boom")])
          yield* store.retry(leaseOf(second!), { delayMillis: 0, countAttempt: true, error: attemptError(2, "bang") })
          assert.deepStrictEqual((yield* find(store, "a")).errors, [attemptError(1, "boom"), attemptError(2, "bang")])
          assert.strictEqual((yield* store.stats).failed, 2)
        }))

      test("keeps 1 KiB of each error message and 32 KiB of a job's history, newest first kept, cuts marked", (store) =>
        Effect.gen(function* () {
          const [first] = yield* claimed(store, ["a"])
          let lease = leaseOf(first!)
          for (let attempt = 1; attempt <= 30; attempt++) {
            if (attempt > 1) {
              const [again] = yield* claim(store)
              lease = leaseOf(again!)
            }
            const error = {
              ...attemptError(attempt, `${attempt}:${"m".repeat(5_000)}`),
              cause: "c".repeat(6_000)
            }
            assert.isTrue(yield* store.retry(lease, { delayMillis: 0, countAttempt: true, error }))
          }
          const { errors } = yield* find(store, "a")
          const bytes = errors.reduce((sum, e) => sum + new TextEncoder().encode(JSON.stringify(e)).length + 1, 0)
          assert.isAtMost(bytes, JobRecord.maxErrorHistoryBytes)
          assert.strictEqual(errors[0]?.tag, JobRecord.errorsDroppedTag)
          const kept = errors.slice(1)
          assert.isAbove(kept.length, 1)
          assert.match(errors[0]!.message, new RegExp(`^${30 - kept.length} older failed attempt`))
          assert.deepStrictEqual(
            kept.map((e) => e.attempt),
            Array.from({ length: kept.length }, (_, i) => 31 - kept.length + i)
          )
          for (const e of kept) {
            assert.isAtMost(new TextEncoder().encode(e.message).length, JobRecord.maxErrorMessageBytes)
            assert.match(e.message, /^\d+:m+… \[cut: 50\d\d bytes in all\]$/)
            assert.isAtMost(new TextEncoder().encode(e.cause).length, JobRecord.maxErrorCauseBytes)
          }
        }))

      test("gives the attempt back and counts no failure without countAttempt", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.isTrue(yield* store.retry(leaseOf(a!), { delayMillis: soon, countAttempt: false }))
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "retry")
          assert.strictEqual(stored.attempt, 0)
          assert.strictEqual((yield* store.stats).failed, 0)
          yield* advance(pastSoon)
          assert.strictEqual((yield* claim(store))[0]?.attempt, 1)
        }))
    })

    describe("kill", () => {
      test("moves the job to the dead set with its reason and error", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.isTrue(yield* store.kill(leaseOf(a!), { reason: "retries exhausted", error: attemptError(1, "boom") }))
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "dead")
          assert.strictEqual(stored.deadReason, "retries exhausted")
          assert.isNumber(stored.diedAt)
          assert.isAtLeast(stored.diedAt!, stored.enqueuedAt)
          assert.strictEqual(stored.attempt, 1)
          assert.deepStrictEqual(stored.errors, [attemptError(1, "boom")])
          const stats = yield* store.stats
          assert.strictEqual(stats.dead, 1)
          assert.strictEqual(stats.failed, 1)
          assert.strictEqual(stats.leased, 0)
          assert.deepStrictEqual(ids((yield* store.list("dead", { offset: 0, limit: 10 })).jobs), ["a"])
          yield* advance(pastSoon)
          assert.deepStrictEqual(yield* claim(store), [])
        }))
    })

    describe("kill", () => {
      test("keeps 1 KiB of a dead reason, the cut marked with the whole length", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.isTrue(yield* store.kill(leaseOf(a!), { reason: `payload.n: ${"é".repeat(100_000)}` }))
          const reason = (yield* find(store, "a")).deadReason!
          assert.isAtMost(new TextEncoder().encode(reason).length, JobRecord.maxDeadReasonBytes)
          assert.match(reason, /^payload\.n: é+… \[cut: 200011 bytes in all\]$/)
          assert.strictEqual((yield* store.list("dead", { offset: 0, limit: 1 })).jobs[0]?.deadReason, reason)
        }))
    })

    describe("quarantine", () => {
      test("holds nothing a store wrote itself; re-enqueueing or deleting ids not in it changes nothing", (store) =>
        Effect.gen(function* () {
          yield* claimed(store, ["a"])
          yield* store.enqueue([job("b"), job("c", { delayMillis: soon })])
          yield* advance(pastSoon)
          assert.strictEqual(yield* store.reap, 0)
          assert.deepStrictEqual(yield* store.listQuarantine({ offset: 0, limit: 10 }), { entries: [], total: 0 })
          assert.strictEqual(yield* store.requeueQuarantined(["a", "b", "nope"]), 0)
          assert.strictEqual(yield* store.removeQuarantined(["a", "b", "nope"]), 0)
          assert.strictEqual((yield* find(store, "a")).state, "leased")
          assert.deepStrictEqual(ids(yield* claim(store, { limit: 10 })), ["b", "c"])
        }))
    })

    describe("limits per queue", () => {
      /** Enqueues, claims and settles one job of `queue` (a millisecond apart, so the order is clear). */
      const settleOne = (store: Store, id: string, queue: string, how: "ack" | "kill") =>
        Effect.gen(function* () {
          yield* store.enqueue([job(id, { queue })])
          const [claimedJob] = yield* claim(store, { queues: [queue] })
          if (how === "ack") assert.strictEqual(yield* store.ack([leaseOf(claimedJob!)]), 1)
          else assert.isTrue(yield* store.kill(leaseOf(claimedJob!), { reason: "bad" }))
          yield* advance(2)
        })

      testWith("trims each queue's dead set to maxJobs on its own", { deadSet: { maxJobs: 1 } }, (store) =>
        Effect.gen(function* () {
          yield* settleOne(store, "a1", "a", "kill")
          yield* settleOne(store, "b1", "b", "kill")
          yield* settleOne(store, "a2", "a", "kill")
          assert.deepStrictEqual(ids((yield* store.list("dead", { offset: 0, limit: 10 })).jobs), ["a2", "b1"])
          assert.isTrue(yield* isGone(store, "a1"))
          assert.strictEqual((yield* store.stats).dead, 2)
        })
      )

      testWith("keeps each queue's newest keepLast completed jobs", { completed: { keepLast: 1 } }, (store) =>
        Effect.gen(function* () {
          yield* settleOne(store, "a1", "a", "ack")
          yield* settleOne(store, "b1", "b", "ack")
          yield* settleOne(store, "a2", "a", "ack")
          assert.isTrue(yield* isGone(store, "a1"))
          assert.strictEqual((yield* find(store, "b1")).state, "completed")
          assert.strictEqual((yield* find(store, "a2")).state, "completed")
          assert.strictEqual((yield* store.enqueue([job("b1", { queue: "b" })]))[0]?.outcome, "duplicate")
        })
      )
    })

    describe("discard", () => {
      test("drops the job without counting it processed or failed", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          assert.isTrue(yield* store.discard(leaseOf(a!)))
          assert.isTrue(yield* isGone(store, "a"))
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 0)
          assert.strictEqual(stats.failed, 0)
          assert.strictEqual(stats.leased, 0)
          assert.strictEqual(stats.dead, 0)
        }))
    })

    describe("requeue", () => {
      test("puts the job back at the head of its queue and gives the attempt back", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a"), job("b")])
          const [a] = yield* claim(store)
          assert.isTrue(yield* store.requeue(leaseOf(a!)))
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "ready")
          assert.strictEqual(stored.attempt, 0)
          assert.strictEqual((yield* store.stats).leased, 0)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["a", "b"])
          const [again] = yield* claim(store)
          assert.strictEqual(again?.id, "a")
          assert.strictEqual(again?.attempt, 1)
          assert.notStrictEqual(again?.token, a!.token)
        }))
    })

    describe("fencing", () => {
      test("ignores every settlement made with a lease that reap handed to another claim", (store) =>
        Effect.gen(function* () {
          const [stale] = yield* claimed(store, ["a"], shortLease)
          yield* advance(pastShortLease)
          assert.strictEqual(yield* store.reap, 1)
          const [current] = yield* claim(store, { owner: "worker-2" })
          assert.strictEqual(current?.id, "a")
          assert.notStrictEqual(current!.token, stale!.token)
          const old = leaseOf(stale!)
          yield* assertEverySettlementRefused(store, old)
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "leased")
          assert.strictEqual(stored.attempt, 2)
          assert.deepStrictEqual(stored.errors, [])
          yield* assertCounts(store, { processed: 0, failed: 0, leased: 1, retry: 0, dead: 0 })
          assert.strictEqual(yield* store.ack([leaseOf(current!)]), 1)
        }))

      // Between the reap and the next claim nobody holds the job: a late settlement must not
      // complete, fail or drop a job that now waits in its queue.
      test("refuses every settlement made with a lease that reap took back, before anyone claims it again", (store) =>
        Effect.gen(function* () {
          const [stale] = yield* claimed(store, ["a"], shortLease)
          yield* advance(pastShortLease)
          assert.strictEqual(yield* store.reap, 1)
          const old = leaseOf(stale!)
          yield* assertEverySettlementRefused(store, old)
          assert.deepStrictEqual(
            yield* store.ackAndClaim([old], { queues: ["default"], limit: 0, owner, leaseMillis: longLease }),
            { acked: [false], jobs: [] }
          )
          const stored = yield* find(store, "a")
          assert.strictEqual(stored.state, "ready")
          assert.strictEqual(stored.attempt, 1)
          assert.deepStrictEqual(stored.errors, [])
          yield* assertCounts(store, { processed: 0, failed: 0, leased: 0, retry: 0, dead: 0 })
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["a"])
          const [again] = yield* claim(store, { owner: "worker-2" })
          assert.strictEqual(again?.id, "a")
          assert.strictEqual(again?.attempt, 2)
          assert.strictEqual(yield* store.ack([old]), 0)
          assert.strictEqual(yield* store.ack([leaseOf(again!)]), 1)
        }))

      test("gives every run a fence above every earlier run's: requeue, RetryIn and a retry from the dead set", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a")])
          const [first] = yield* claim(store)
          assert.isTrue(yield* store.requeue(leaseOf(first!)))
          const [second] = yield* claim(store)
          assert.isTrue(yield* store.retry(leaseOf(second!), { delayMillis: 0, countAttempt: false }))
          const [third] = yield* claim(store)
          assert.isTrue(yield* store.kill(leaseOf(third!), { reason: "dead" }))
          assert.strictEqual(yield* store.retryNow("dead", ["a"]), 1)
          const [fourth] = yield* claim(store)
          const runs = [first!, second!, third!, fourth!]
          // The attempt goes back each time, so it cannot tell these runs apart; the fence can.
          assert.deepStrictEqual(
            runs.map((run) => run.attempt),
            [1, 1, 1, 1]
          )
          for (let i = 1; i < runs.length; i++) assert.isAbove(runs[i]!.fence, runs[i - 1]!.fence)
        }))

      test("answers a settlement repeated as the first and changes nothing; refuses any other", (store) =>
        Effect.gen(function* () {
          const [a, b, c, d] = yield* claimed(store, ["a", "b", "c", "d"])
          assert.isTrue(yield* store.kill(leaseOf(a!), { reason: "first" }))
          // The same settlement again is a replay (its first reply may have been lost).
          assert.isTrue(yield* store.kill(leaseOf(a!), { reason: "second" }))
          assert.isFalse(yield* store.retry(leaseOf(a!), { delayMillis: 0, countAttempt: true }))
          assert.isFalse(yield* store.requeue(leaseOf(a!)))
          assert.isFalse(yield* store.discard(leaseOf(a!)))
          assert.strictEqual(yield* store.ack([leaseOf(a!)]), 0)
          assert.strictEqual((yield* find(store, "a")).deadReason, "first")
          assert.isTrue(yield* store.retry(leaseOf(b!), { delayMillis: far, countAttempt: true }))
          assert.isTrue(yield* store.retry(leaseOf(b!), { delayMillis: far, countAttempt: true }))
          assert.isFalse(yield* store.requeue(leaseOf(b!)))
          assert.isTrue(yield* store.discard(leaseOf(c!)))
          assert.isTrue(yield* store.discard(leaseOf(c!)))
          assert.isFalse(yield* store.kill(leaseOf(c!), { reason: "late" }))
          assert.isTrue(yield* store.requeue(leaseOf(d!)))
          assert.isTrue(yield* store.requeue(leaseOf(d!)))
          assert.strictEqual((yield* store.stats).queues.find((q) => q.name === "default")?.size, 1)
          assert.strictEqual((yield* find(store, "d")).attempt, 0)
          assert.isTrue(yield* isGone(store, "c"))
          assert.strictEqual((yield* find(store, "b")).state, "retry")
          const stats = yield* store.stats
          assert.strictEqual(stats.failed, 2)
          assert.strictEqual(stats.dead, 1)
          assert.strictEqual(stats.retry, 1)
          assert.deepStrictEqual(ids(yield* claim(store)), ["d"])
        }))
    })

    describe("reap", () => {
      test("puts expired leases back at the head of their queue with the attempt still counted", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("expiring"), job("held"), job("waiting")])
          yield* claim(store, { leaseMillis: shortLease })
          yield* claim(store, { leaseMillis: longLease })
          assert.strictEqual(yield* store.reap, 0)
          yield* advance(pastShortLease)
          assert.strictEqual(yield* store.reap, 1)
          const reaped = yield* find(store, "expiring")
          assert.strictEqual(reaped.state, "ready")
          assert.strictEqual(reaped.attempt, 1)
          assert.strictEqual((yield* find(store, "held")).state, "leased")
          assert.strictEqual((yield* store.stats).leased, 1)
          const claims = yield* claim(store, { limit: 5 })
          assert.deepStrictEqual(ids(claims), ["expiring", "waiting"])
          assert.strictEqual(claims[0]!.attempt, 2)
        }))

      test("puts an expired lease back into its own queue", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { queue: "mail" })])
          yield* claim(store, { queues: ["mail"], leaseMillis: shortLease })
          yield* advance(pastShortLease)
          assert.strictEqual(yield* store.reap, 1)
          assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 0)
          assert.deepStrictEqual(ids((yield* store.listQueue("mail", { offset: 0, limit: 10 })).jobs), ["a"])
        }))
    })

    describe("promote", () => {
      test("moves due scheduled and retry jobs to their ready queues and leaves the rest", (store) =>
        Effect.gen(function* () {
          const [dueRetry, laterRetry] = yield* claimed(store, ["due-retry", "later-retry"])
          yield* store.retry(leaseOf(dueRetry!), { delayMillis: soon, countAttempt: true })
          yield* store.retry(leaseOf(laterRetry!), { delayMillis: far, countAttempt: true })
          yield* store.enqueue([
            job("due-scheduled", { delayMillis: soon, queue: "mail" }),
            job("later-scheduled", { delayMillis: far })
          ])
          assert.strictEqual(yield* store.promote, 0)
          yield* advance(pastSoon)
          assert.strictEqual(yield* store.promote, 2)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), ["due-retry"])
          assert.deepStrictEqual(ids((yield* store.listQueue("mail", { offset: 0, limit: 10 })).jobs), [
            "due-scheduled"
          ])
          assert.strictEqual((yield* find(store, "due-retry")).state, "ready")
          assert.strictEqual((yield* find(store, "due-scheduled")).state, "ready")
          const stats = yield* store.stats
          assert.strictEqual(stats.scheduled, 1)
          assert.strictEqual(stats.retry, 1)
          assert.strictEqual(yield* store.promote, 0)
        }))

      test("promotes scheduled jobs soonest first", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([
            job("third", { delayMillis: 150 }),
            job("first", { delayMillis: 50 }),
            job("second", { delayMillis: 100 })
          ])
          yield* advance(pastSoon)
          assert.strictEqual(yield* store.promote, 3)
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 10 })).jobs), [
            "first",
            "second",
            "third"
          ])
        }))
    })

    describe("awaitWork", () => {
      test("returns at once when a wanted queue has ready work", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a")])
          const fiber = yield* Effect.forkChild(store.awaitWork(["other", "default"], far))
          assert.isTrue(yield* endsSoon(fiber))
        }))

      test("returns when a scheduled job becomes due, not before", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { delayMillis: 250 })])
          yield* assertReturnsAfter(store.awaitWork(["default"], far), 250)
        }))

      test("returns when a retry becomes due, not before", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          yield* store.retry(leaseOf(a!), { delayMillis: 250, countAttempt: true })
          yield* assertReturnsAfter(store.awaitWork(["default"], far), 250)
        }))

      test("returns after maxWaitMillis when there is nothing to do", (store) =>
        assertReturnsAfter(store.awaitWork(["default"], 200), 200))

      test("is woken by an enqueue from another fiber", (store) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(store.awaitWork(["default"], far))
          yield* advance(50)
          assert.isTrue(yield* isRunning(fiber), "waits while there is no work")
          yield* Effect.forkChild(store.enqueue([job("a")]))
          assert.isTrue(yield* endsSoon(fiber), "woken by the enqueue")
        }))

      /** Asserts that a waiter on "default" with nothing to do waits, then is woken by `act`. */
      const assertWokenBy = (store: Store, act: Effect.Effect<unknown, unknown>, what: string) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(store.awaitWork(["default"], far))
          yield* advance(50)
          assert.isTrue(yield* isRunning(fiber), "waits while there is no work")
          yield* Effect.forkChild(act)
          assert.isTrue(yield* endsSoon(fiber), `woken by ${what}`)
        })

      test("is woken by a reap that puts an expired lease back", (store) =>
        Effect.gen(function* () {
          yield* claimed(store, ["a"], shortLease)
          yield* advance(pastShortLease)
          yield* assertWokenBy(store, store.reap, "the reap")
        }))

      test("is woken by retryNow of a scheduled, retry or dead job", (store) =>
        Effect.gen(function* () {
          const [r, d] = yield* claimed(store, ["r", "d"])
          yield* store.retry(leaseOf(r!), { delayMillis: far, countAttempt: true })
          yield* store.kill(leaseOf(d!), { reason: "bad" })
          yield* store.enqueue([job("s", { delayMillis: far })])
          for (const [set, id] of [
            ["scheduled", "s"],
            ["retry", "r"],
            ["dead", "d"]
          ] as const) {
            yield* assertWokenBy(store, store.retryNow(set, [id]), `retryNow of the ${set} job`)
            assert.deepStrictEqual(ids(yield* claim(store)), [id])
          }
        }))

      test("is woken by a requeue", (store) =>
        Effect.gen(function* () {
          const [a] = yield* claimed(store, ["a"])
          yield* assertWokenBy(store, store.requeue(leaseOf(a!)), "the requeue")
        }))

      test("waits while the only work is in a paused queue and is woken by resume", (store) =>
        Effect.gen(function* () {
          yield* store.pause("default")
          yield* store.enqueue([job("a")])
          const fiber = yield* Effect.forkChild(store.awaitWork(["default"], far))
          yield* advance(50)
          assert.isTrue(yield* isRunning(fiber), "ignores ready jobs of a paused queue")
          yield* store.resume("default")
          assert.isTrue(yield* endsSoon(fiber), "woken by the resume")
        }))
    })

    describe("dead set limits", () => {
      /** Enqueues, claims and kills the jobs one after the other, a little time apart. */
      const killAll = (store: Store, jobIds: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          for (const claimedJob of yield* claimed(store, jobIds)) {
            assert.isTrue(yield* store.kill(leaseOf(claimedJob), { reason: "bad" }))
            yield* advance(1)
          }
        })
      const deadIds = (store: Store) =>
        store.list("dead", { offset: 0, limit: 100 }).pipe(Effect.map((p) => ids(p.jobs)))

      testWith("trims the oldest dead jobs past maxJobs and frees their ids", { deadSet: { maxJobs: 3 } }, (store) =>
        Effect.gen(function* () {
          yield* killAll(store, ["d1", "d2", "d3", "d4", "d5"])
          assert.deepStrictEqual(yield* deadIds(store), ["d5", "d4", "d3"])
          assert.strictEqual((yield* store.stats).dead, 3)
          assert.isTrue(yield* isGone(store, "d1"))
          assert.isTrue(yield* isGone(store, "d2"))
          yield* eventually(enqueuesAnew(store, "d1", "other"), "a trimmed id is free again")
        })
      )

      testWith(
        "trims dead jobs older than maxAge when another job dies",
        { deadSet: { maxAge: Duration.millis(500) } },
        (store) =>
          Effect.gen(function* () {
            // Old enough once "new" comes, "middle" far from it: slow round trips on a busy machine stay inside the limit.
            yield* killAll(store, ["old"])
            yield* advance(450)
            yield* killAll(store, ["middle"])
            yield* advance(100)
            yield* killAll(store, ["new"])
            assert.deepStrictEqual(yield* deadIds(store), ["new", "middle"])
            assert.isTrue(yield* isGone(store, "old"))
          })
      )
    })

    describe("completed retention", () => {
      /** Enqueues, claims and acks the jobs one after the other, a little time apart. */
      const ackAll = (store: Store, jobIds: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          for (const claimedJob of yield* claimed(store, jobIds)) {
            assert.strictEqual(yield* store.ack([leaseOf(claimedJob)]), 1)
            yield* advance(1)
          }
        })
      const stateOf = (store: Store, id: string) =>
        store.get(id).pipe(Effect.map((found) => Option.getOrUndefined(found)?.state))

      test("deletes completed jobs by default, counters kept", (store) =>
        Effect.gen(function* () {
          yield* ackAll(store, ["c1", "c2"])
          assert.isTrue(yield* isGone(store, "c1"))
          assert.isTrue(yield* isGone(store, "c2"))
          assert.strictEqual((yield* store.stats).processed, 2)
          yield* eventually(enqueuesAnew(store, "c1"), "a completed id is free again")
        }))

      testWith(
        "keeps the newest keepLast completed jobs, readable and taken as ids",
        { completed: { keepLast: 3 } },
        (store) =>
          Effect.gen(function* () {
            yield* ackAll(store, ["c1", "c2", "c3", "c4", "c5"])
            assert.isTrue(yield* isGone(store, "c1"))
            assert.isTrue(yield* isGone(store, "c2"))
            for (const id of ["c3", "c4", "c5"]) {
              const kept = yield* find(store, id)
              assert.strictEqual(kept.state, "completed", id)
              assert.strictEqual(kept.payload, JSON.stringify({ id }))
              assert.strictEqual(kept.attempt, 1)
            }
            assert.strictEqual((yield* store.stats).processed, 5)
            assert.deepStrictEqual(yield* store.enqueue([job("c4")]), [{ id: "c4", outcome: "duplicate" }])
            assert.deepStrictEqual(yield* store.enqueue([job("c4", { queue: "other" })]), [
              { id: "c4", outcome: "duplicate" }
            ])
            yield* eventually(enqueuesAnew(store, "c1", "other"), "a trimmed id is free again")
          })
      )

      testWith(
        "drops completed jobs older than keepFor when another job completes",
        { completed: { keepFor: Duration.millis(500) } },
        (store) =>
          Effect.gen(function* () {
            // Old enough once "new" comes, "middle" far from it: slow round trips on a busy machine stay inside the limit.
            yield* ackAll(store, ["old"])
            assert.strictEqual(yield* stateOf(store, "old"), "completed")
            assert.deepStrictEqual(yield* store.enqueue([job("old")]), [{ id: "old", outcome: "duplicate" }])
            yield* advance(450)
            yield* ackAll(store, ["middle"])
            yield* advance(100)
            yield* ackAll(store, ["new"])
            assert.isTrue(yield* isGone(store, "old"))
            assert.strictEqual(yield* stateOf(store, "middle"), "completed")
            assert.strictEqual(yield* stateOf(store, "new"), "completed")
            yield* eventually(enqueuesAnew(store, "old"), "an expired id is free again")
          })
      )
    })

    describe("pause and resume", () => {
      test("a paused queue keeps its jobs and a resumed one hands them out", (store) =>
        Effect.gen(function* () {
          yield* store.pause("default")
          assert.deepStrictEqual(yield* store.enqueue([job("a")]), [{ id: "a", outcome: "enqueued" }])
          assert.deepStrictEqual(yield* claim(store), [])
          const paused = yield* queueStats(store, "default")
          assert.isTrue(paused.paused)
          assert.strictEqual(paused.size, 1)
          yield* store.resume("default")
          assert.isFalse((yield* queueStats(store, "default")).paused)
          assert.deepStrictEqual(ids(yield* claim(store)), ["a"])
        }))

      test("pausing one queue leaves the others running", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("a", { queue: "mail" }), job("b")])
          yield* store.pause("mail")
          assert.deepStrictEqual(ids(yield* claim(store, { queues: ["mail", "default"], limit: 5 })), ["b"])
          assert.isFalse((yield* queueStats(store, "default")).paused)
        }))

      test("shows a paused queue in stats even when it is empty", (store) =>
        Effect.gen(function* () {
          yield* store.pause("empty")
          const stats = yield* queueStats(store, "empty")
          assert.isTrue(stats.paused)
          assert.strictEqual(stats.size, 0)
          assert.strictEqual(stats.latencyMillis, 0)
        }))
    })

    describe("stats", () => {
      test("counts ready, scheduled, retry, leased and dead jobs and the processed and failed counters", (store) =>
        Effect.gen(function* () {
          const [toRetry, toKill, toAck] = yield* claimed(store, ["retry", "kill", "ack", "leased"])
          yield* store.retry(leaseOf(toRetry!), { delayMillis: far, countAttempt: true })
          yield* store.kill(leaseOf(toKill!), { reason: "bad" })
          yield* store.ack([leaseOf(toAck!)])
          yield* store.enqueue([
            job("a1", { queue: "a" }),
            job("a2", { queue: "a" }),
            job("b1", { queue: "b" }),
            job("s1", { delayMillis: far })
          ])
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 1)
          assert.strictEqual(stats.failed, 2)
          assert.strictEqual(stats.scheduled, 1)
          assert.strictEqual(stats.retry, 1)
          assert.strictEqual(stats.dead, 1)
          assert.strictEqual(stats.leased, 1)
          const queueA = stats.queues.find((q) => q.name === "a")
          const queueB = stats.queues.find((q) => q.name === "b")
          assert.strictEqual(queueA?.size, 2)
          assert.isFalse(queueA?.paused)
          assert.strictEqual(queueB?.size, 1)
          assert.strictEqual(stats.queues.find((q) => q.name === "default")?.size ?? 0, 0)
        }))

      test("reports the age of the oldest ready job as the queue's latency", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("old")])
          yield* advance(100)
          yield* store.enqueue([job("new")])
          assertAbout((yield* queueStats(store, "default")).latencyMillis, 100 + (live ? liveMargin : 0), "oldest")
          yield* claim(store)
          assertAbout((yield* queueStats(store, "default")).latencyMillis, 0, "after the oldest left")
          yield* claim(store)
          assert.strictEqual((yield* store.stats).queues.find((q) => q.name === "default")?.latencyMillis ?? 0, 0)
        }))
    })

    describe("get", () => {
      test("finds a job wherever it is, with its state", (store) =>
        Effect.gen(function* () {
          const [toRetry, toKill] = yield* claimed(store, ["retry", "dead", "leased"])
          yield* store.retry(leaseOf(toRetry!), { delayMillis: far, countAttempt: true })
          yield* store.kill(leaseOf(toKill!), { reason: "bad" })
          yield* store.enqueue([job("ready"), job("scheduled", { delayMillis: far })])
          for (const state of ["ready", "scheduled", "retry", "leased", "dead"] as const) {
            const stored = yield* find(store, state)
            assert.strictEqual(stored.state, state)
            assert.strictEqual(stored.payload, JSON.stringify({ id: state }))
          }
          assert.isTrue(Option.isNone(yield* store.get("missing")))
        }))
    })

    describe("listQueue", () => {
      test("pages through a ready queue oldest first with its total", (store) =>
        Effect.gen(function* () {
          const jobIds = range(10, "j")
          yield* store.enqueue(jobIds.map((id) => job(id)))
          const middle = yield* store.listQueue("default", { offset: 3, limit: 4 })
          assert.deepStrictEqual(ids(middle.jobs), ["j3", "j4", "j5", "j6"])
          assert.strictEqual(middle.total, 10)
          assert.isTrue(middle.jobs.every((j) => j.state === "ready"))
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 8, limit: 5 })).jobs), ["j8", "j9"])
          assert.deepStrictEqual(yield* store.listQueue("default", { offset: 20, limit: 5 }), { jobs: [], total: 10 })
          assert.deepStrictEqual(yield* store.listQueue("unknown", { offset: 0, limit: 5 }), { jobs: [], total: 0 })
        }))
    })

    describe("list", () => {
      test("pages through the scheduled set soonest first", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([
            job("s30", { delayMillis: 30_000 }),
            job("s10", { delayMillis: 10_000 }),
            job("s20", { delayMillis: 20_000 })
          ])
          const first = yield* store.list("scheduled", { offset: 0, limit: 2 })
          assert.deepStrictEqual(ids(first.jobs), ["s10", "s20"])
          assert.strictEqual(first.total, 3)
          assert.isTrue(first.jobs.every((j) => j.state === "scheduled"))
          assert.deepStrictEqual(ids((yield* store.list("scheduled", { offset: 2, limit: 2 })).jobs), ["s30"])
        }))

      test("pages through the retry set soonest first", (store) =>
        Effect.gen(function* () {
          const [r30, r10, r20] = yield* claimed(store, ["r30", "r10", "r20"])
          yield* store.retry(leaseOf(r30!), { delayMillis: 30_000, countAttempt: true })
          yield* store.retry(leaseOf(r10!), { delayMillis: 10_000, countAttempt: true })
          yield* store.retry(leaseOf(r20!), { delayMillis: 20_000, countAttempt: true })
          const first = yield* store.list("retry", { offset: 0, limit: 2 })
          assert.deepStrictEqual(ids(first.jobs), ["r10", "r20"])
          assert.strictEqual(first.total, 3)
          assert.isTrue(first.jobs.every((j) => j.state === "retry"))
          assert.deepStrictEqual(ids((yield* store.list("retry", { offset: 2, limit: 2 })).jobs), ["r30"])
        }))

      test("pages through the dead set newest first", (store) =>
        Effect.gen(function* () {
          const claims = yield* claimed(store, ["d1", "d2", "d3", "d4"])
          for (const claimedJob of claims) {
            yield* store.kill(leaseOf(claimedJob), { reason: "bad" })
            yield* advance(1)
          }
          const first = yield* store.list("dead", { offset: 0, limit: 2 })
          assert.deepStrictEqual(ids(first.jobs), ["d4", "d3"])
          assert.strictEqual(first.total, 4)
          assert.isTrue(first.jobs.every((j) => j.state === "dead"))
          assert.deepStrictEqual(ids((yield* store.list("dead", { offset: 2, limit: 10 })).jobs), ["d2", "d1"])
          assert.deepStrictEqual(yield* store.list("dead", { offset: 4, limit: 10 }), { jobs: [], total: 4 })
        }))
    })

    describe("retryNow", () => {
      test("moves scheduled jobs to the tail of their ready queue now", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("waiting"), job("s", { delayMillis: far })])
          assert.strictEqual(yield* store.retryNow("scheduled", ["s"]), 1)
          assert.strictEqual((yield* find(store, "s")).state, "ready")
          assert.strictEqual((yield* store.stats).scheduled, 0)
          assert.deepStrictEqual(ids(yield* claim(store, { limit: 5 })), ["waiting", "s"])
        }))

      test("moves retry jobs to the tail of their ready queue now", (store) =>
        Effect.gen(function* () {
          const [r] = yield* claimed(store, ["r"])
          yield* store.retry(leaseOf(r!), { delayMillis: far, countAttempt: true })
          yield* store.enqueue([job("waiting")])
          assert.strictEqual(yield* store.retryNow("retry", ["r"]), 1)
          assert.strictEqual((yield* store.stats).retry, 0)
          const claims = yield* claim(store, { limit: 5 })
          assert.deepStrictEqual(ids(claims), ["waiting", "r"])
          assert.strictEqual(claims[1]!.attempt, 2)
        }))

      test("moves dead jobs back to their queue with their attempts reset", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("d", { queue: "mail" })])
          const [d] = yield* claim(store, { queues: ["mail"] })
          yield* store.kill(leaseOf(d!), { reason: "bad", error: attemptError(1, "boom") })
          assert.strictEqual(yield* store.retryNow("dead", ["d"]), 1)
          const stored = yield* find(store, "d")
          assert.strictEqual(stored.state, "ready")
          assert.strictEqual(stored.attempt, 0)
          assert.strictEqual(stored.deadReason, undefined)
          assert.strictEqual((yield* store.stats).dead, 0)
          assert.deepStrictEqual(ids((yield* store.listQueue("mail", { offset: 0, limit: 5 })).jobs), ["d"])
          assert.strictEqual((yield* claim(store, { queues: ["mail"] }))[0]?.attempt, 1)
        }))

      test("ignores ids that are not in the set", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("s", { delayMillis: far }), job("ready")])
          assert.strictEqual(yield* store.retryNow("dead", ["s", "ready", "missing"]), 0)
          assert.strictEqual(yield* store.retryNow("retry", ["s"]), 0)
          assert.strictEqual((yield* find(store, "s")).state, "scheduled")
          assert.deepStrictEqual(ids((yield* store.listQueue("default", { offset: 0, limit: 5 })).jobs), ["ready"])
        }))
    })

    describe("remove", () => {
      test("deletes jobs from a set and reports how many were there", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("s1", { delayMillis: far }), job("s2", { delayMillis: far })])
          assert.strictEqual(yield* store.remove("scheduled", ["s1", "missing"]), 1)
          assert.isTrue(yield* isGone(store, "s1"))
          assert.strictEqual((yield* store.stats).scheduled, 1)
          assert.deepStrictEqual(ids((yield* store.list("scheduled", { offset: 0, limit: 5 })).jobs), ["s2"])
        }))

      test("deletes retry and dead jobs", (store) =>
        Effect.gen(function* () {
          const [r, d] = yield* claimed(store, ["r", "d"])
          yield* store.retry(leaseOf(r!), { delayMillis: far, countAttempt: true })
          yield* store.kill(leaseOf(d!), { reason: "bad" })
          assert.strictEqual(yield* store.remove("retry", ["r"]), 1)
          assert.strictEqual(yield* store.remove("dead", ["d"]), 1)
          assert.isTrue(yield* isGone(store, "r"))
          assert.isTrue(yield* isGone(store, "d"))
          const stats = yield* store.stats
          assert.strictEqual(stats.retry, 0)
          assert.strictEqual(stats.dead, 0)
        }))

      test("leaves jobs that are not in the set alone", (store) =>
        Effect.gen(function* () {
          yield* store.enqueue([job("s", { delayMillis: far }), job("ready")])
          assert.strictEqual(yield* store.remove("dead", ["s", "ready"]), 0)
          assert.strictEqual(yield* store.remove("retry", ["s"]), 0)
          assert.strictEqual((yield* find(store, "s")).state, "scheduled")
          assert.strictEqual((yield* find(store, "ready")).state, "ready")
        }))
    })

    describe("trace context", () => {
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

      test("keeps a job's trace context with it through claim, retry and the dead set, payload unchanged", (store) =>
        Effect.gen(function* () {
          const payload = JSON.stringify({ to: "ada", note: "\u0001 inside" })
          yield* store.enqueue([job("t", { payload, trace: traceparent }), job("plain")])
          assert.strictEqual((yield* find(store, "t")).trace, traceparent)
          assert.strictEqual((yield* find(store, "t")).payload, payload)
          assert.isUndefined((yield* find(store, "plain")).trace)
          const [t, plain] = yield* claim(store, { limit: 2 })
          assert.strictEqual(t!.trace, traceparent)
          assert.strictEqual(t!.payload, payload)
          assert.isUndefined(plain!.trace)
          yield* store.retry(leaseOf(t!), { delayMillis: soon, countAttempt: true })
          yield* advance(pastSoon)
          const [again] = yield* claim(store)
          assert.strictEqual(again!.trace, traceparent)
          yield* store.kill(leaseOf(again!), { reason: "bad" })
          const [dead] = (yield* store.list("dead", { offset: 0, limit: 10 })).jobs
          assert.strictEqual(dead!.trace, traceparent)
          assert.strictEqual(dead!.payload, payload)
        }))
    })
  })
}
