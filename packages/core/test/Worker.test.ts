import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Metric, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobRegistry, type JobWorker, ProcessRegistry, QueueStore, RetryPolicy } from "../src/index.ts"
import { jobsLayer, recordEvents, settle, startWorker, tagsFor, wrappedStore } from "./helpers.ts"

/** A job whose handler sleeps `seconds` on the clock. */
const Nap = Job.make("Nap", { payload: { seconds: Schema.Number } })

const get = (id: string) =>
  QueueStore.QueueStore.use((store) => Effect.map(store.get(id), (found) => Option.getOrUndefined(found)))

const stats = QueueStore.QueueStore.use((store) => store.stats)

/** The memory store with lease renewal going through `renew` (to fail or drop renewals). */
const memoryStoreRenewing = (
  renew: (
    store: QueueStore.QueueStore["Service"],
    leases: Parameters<QueueStore.QueueStore["Service"]["extendLeases"]>[0],
    millis: number
  ) => ReturnType<QueueStore.QueueStore["Service"]["extendLeases"]>
) =>
  Layer.effect(
    QueueStore.QueueStore,
    Effect.map(QueueStore.makeMemory(), (store) =>
      QueueStore.QueueStore.of({
        ...store,
        extendLeases: (leases, millis) => Effect.suspend(() => renew(store, leases, millis))
      })
    )
  )

describe("Worker", () => {
  it.effect(
    "runs each of 10,000 jobs exactly once with at most 25 at a time",
    () =>
      Effect.gen(function* () {
        const runs = new Map<string, number>()
        let inFlight = 0
        let maxInFlight = 0
        const handlers = JobRegistry.add(
          Nap.handle(({ seconds }, job) =>
            Effect.gen(function* () {
              runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
              inFlight++
              maxInFlight = Math.max(maxInFlight, inFlight)
              yield* Effect.sleep(`${seconds} seconds`)
              inFlight--
            })
          )
        )
        yield* Effect.gen(function* () {
          const results = yield* Nap.enqueueMany(Array.from({ length: 10_000 }, () => ({ seconds: 1 })))
          yield* startWorker({ concurrency: 25 })
          yield* settle
          assert.strictEqual(inFlight, 25)
          for (let second = 0; second < 1_000 && runs.size < 10_000; second++) yield* TestClock.adjust("1 second")
          yield* TestClock.adjust("1 second")
          // The last jobs' acks linger for a claim (`ackLinger`, 2 ms), then go alone.
          yield* TestClock.adjust("2 millis")
          assert.strictEqual(runs.size, 10_000)
          for (const { id } of results) assert.strictEqual(runs.get(id), 1, `job ${id} ran ${runs.get(id) ?? 0} times`)
          assert.strictEqual(maxInFlight, 25)
          assert.strictEqual(inFlight, 0)
          const after = yield* stats
          assert.strictEqual(after.processed, 10_000)
          assert.strictEqual(after.leased, 0)
          // 400 rounds of 25 one-second jobs: the worker kept all 25 slots busy.
          assert.isAtMost(yield* Clock.currentTimeMillis, 402_000)
        }).pipe(Effect.provide(jobsLayer(handlers)))
      }),
    // 10,000 runs take about 2 s of CPU; a busy two-core box needs more than the 5 s default.
    30_000
  )

  it.effect("never runs more jobs at once than its concurrency", () =>
    Effect.gen(function* () {
      let inFlight = 0
      let maxInFlight = 0
      let finished = 0
      const handlers = JobRegistry.add(
        Nap.handle(({ seconds }) =>
          Effect.gen(function* () {
            inFlight++
            maxInFlight = Math.max(maxInFlight, inFlight)
            yield* Effect.sleep(`${seconds} seconds`)
            inFlight--
            finished++
          })
        )
      )
      yield* Effect.gen(function* () {
        yield* Nap.enqueueMany(Array.from({ length: 10 }, () => ({ seconds: 1 })))
        const { worker } = yield* startWorker({ concurrency: 3 })
        yield* settle
        assert.strictEqual((yield* worker.running).length, 3)
        const waiting = yield* stats
        assert.strictEqual(waiting.leased, 3)
        assert.strictEqual(waiting.queues.find((q) => q.name === "default")?.size, 7)
        yield* TestClock.adjust("1 second")
        assert.strictEqual(finished, 3)
        assert.strictEqual((yield* worker.running).length, 3)
        yield* TestClock.adjust("3 seconds")
        assert.strictEqual(finished, 10)
        assert.strictEqual(maxInFlight, 3)
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("an idle worker wakes on a new enqueue without the clock moving", () =>
    Effect.gen(function* () {
      const ran: Array<number> = []
      const handlers = JobRegistry.add(
        Nap.handle(() => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => void ran.push(now))))
      )
      yield* Effect.gen(function* () {
        yield* startWorker({ concurrency: 2, pollInterval: "1 hour" })
        yield* settle
        assert.deepStrictEqual(ran, [])
        yield* Nap.enqueue({ seconds: 0 })
        yield* settle
        assert.deepStrictEqual(ran, [0])
        yield* Nap.enqueue({ seconds: 0 })
        yield* settle
        assert.deepStrictEqual(ran, [0, 0])
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("jobs arriving one at a time fill every slot without waiting for the poll interval", () =>
    Effect.gen(function* () {
      const handlers = JobRegistry.add(Nap.handle(({ seconds }) => Effect.sleep(`${seconds} seconds`)))
      yield* Effect.gen(function* () {
        // Two lanes of two slots: once the first lane is full, the second must take over the watch.
        const { worker } = yield* startWorker({ concurrency: 4, pollInterval: "1 hour" })
        yield* settle
        for (let n = 1; n <= 5; n++) {
          yield* Nap.enqueue({ seconds: 10 })
          yield* settle
          assert.strictEqual((yield* worker.running).length, Math.min(n, 4), `after enqueue ${n}`)
        }
        yield* TestClock.adjust("10 seconds")
        yield* settle
        // The fifth waited for a free slot, then started when the first four finished.
        assert.strictEqual((yield* worker.running).length, 1)
        yield* TestClock.adjust("10 seconds")
        yield* settle
        // The last job's ack lingers for a claim (`ackLinger`, 2 ms), then goes alone.
        yield* TestClock.adjust("2 millis")
        assert.strictEqual((yield* stats).processed, 5)
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  describe("acks while waiting for work", () => {
    /** The memory store, counting acks sent alone and acks carried by claims. */
    const countingStore = (counts: { alone: number; withClaim: number }) =>
      wrappedStore((store) => ({
        ack: (leases) =>
          Effect.suspend(() => {
            counts.alone += leases.length
            return store.ack(leases)
          }),
        ackAndClaim: (acks, options) =>
          Effect.suspend(() => {
            counts.withClaim += acks.length
            return store.ackAndClaim(acks, options)
          })
      }))
    const handlers = JobRegistry.add(Nap.handle(() => Effect.void))

    it.effect("a job's ack rides on the claim of the next job arriving within ackLinger, and goes alone after it", () =>
      Effect.gen(function* () {
        const counts = { alone: 0, withClaim: 0 }
        yield* Effect.gen(function* () {
          // Lanes of two slots: a claim that finds one job leaves its lane waiting for work.
          yield* startWorker({ concurrency: 4 })
          yield* settle
          const first = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          assert.strictEqual((yield* get(first.id))?.state, "leased", "the ack waits for the next claim")
          yield* TestClock.adjust("1 millis")
          const second = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          assert.isUndefined(yield* get(first.id), "acked by the claim that took the second job")
          assert.deepStrictEqual(counts, { alone: 0, withClaim: 1 })
          assert.strictEqual((yield* get(second.id))?.state, "leased")
          // No third job: past the linger the second job's ack goes alone.
          yield* TestClock.adjust("1 millis")
          yield* settle
          assert.strictEqual((yield* get(second.id))?.state, "leased")
          yield* TestClock.adjust("1 millis")
          yield* settle
          assert.isUndefined(yield* get(second.id))
          assert.deepStrictEqual(counts, { alone: 1, withClaim: 1 })
          assert.strictEqual((yield* stats).processed, 2)
        }).pipe(Effect.provide(jobsLayer(handlers, { store: countingStore(counts) })))
      })
    )

    it.effect("with ackLinger 0 a job finished while its lane waits is acked at once, alone", () =>
      Effect.gen(function* () {
        const counts = { alone: 0, withClaim: 0 }
        yield* Effect.gen(function* () {
          yield* startWorker({ concurrency: 4, ackLinger: 0 })
          yield* settle
          const { id } = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          assert.isUndefined(yield* get(id))
          assert.deepStrictEqual(counts, { alone: 1, withClaim: 0 })
        }).pipe(Effect.provide(jobsLayer(handlers, { store: countingStore(counts) })))
      })
    )

    it.effect("a lingering ack is sent before shutdown ends", () =>
      Effect.gen(function* () {
        const counts = { alone: 0, withClaim: 0 }
        yield* Effect.gen(function* () {
          const { stop } = yield* startWorker({ concurrency: 4, ackLinger: "1 hour" })
          yield* settle
          const { id } = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          assert.strictEqual((yield* get(id))?.state, "leased")
          yield* stop
          assert.isUndefined(yield* get(id), "acked while shutting down")
          assert.strictEqual((yield* stats).processed, 1)
        }).pipe(Effect.provide(jobsLayer(handlers, { store: countingStore(counts) })))
      })
    )

    it.effect("an idle worker asks the store once per poll interval, not once per fetch loop", () =>
      Effect.gen(function* () {
        let claims = 0
        const store = wrappedStore((memory) => ({
          ackAndClaim: (acks, options) =>
            Effect.suspend(() => {
              claims++
              return memory.ackAndClaim(acks, options)
            })
        }))
        yield* Effect.gen(function* () {
          // Two fetch loops: one watches the store, the other waits for it.
          yield* startWorker({ concurrency: 4, pollInterval: "1 second" })
          yield* settle
          const before = claims
          for (let second = 0; second < 10; second++) {
            yield* TestClock.adjust("1 second")
            yield* settle
          }
          assert.isAtMost(claims - before, 10)
          assert.isAtLeast(claims - before, 9)
          // Work still wakes it at once.
          const { id } = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          yield* TestClock.adjust("2 millis")
          assert.isUndefined(yield* get(id))
        }).pipe(Effect.provide(jobsLayer(handlers, { store })))
      })
    )

    it.effect("refuses a negative ackLinger, naming it", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(startWorker({ ackLinger: -1 }))
        assert.strictEqual(error.option, "ackLinger")
        assert.include(error.message, "ackLinger")
      }).pipe(Effect.provide(jobsLayer(handlers)))
    )
  })

  it.effect("runs a scheduled job at its due time, not before", () =>
    Effect.gen(function* () {
      const ran: Array<{ readonly id: string; readonly at: number }> = []
      const handlers = JobRegistry.add(
        Nap.handle((_, job) =>
          Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.sync(() => void ran.push({ id: job.id, at })))
        )
      )
      yield* Effect.gen(function* () {
        yield* startWorker({ concurrency: 2 })
        yield* settle
        const later = yield* Nap.enqueue({ seconds: 0 }, { delay: "10 seconds" })
        const atTime = yield* Nap.enqueue({ seconds: 0 }, { at: 25_000 })
        assert.strictEqual(later.outcome, "scheduled")
        yield* TestClock.adjust(9_999)
        assert.deepStrictEqual(ran, [])
        yield* TestClock.adjust(1)
        assert.deepStrictEqual(ran, [{ id: later.id, at: 10_000 }])
        yield* TestClock.adjust(14_999)
        assert.strictEqual(ran.length, 1)
        yield* TestClock.adjust(1)
        assert.deepStrictEqual(ran[1], { id: atTime.id, at: 25_000 })
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  describe("timeouts", () => {
    const Stuck = Job.make("Stuck", {
      payload: {},
      timeout: "1 second",
      retry: RetryPolicy.exponential({ maxRetries: 2, base: "5 seconds", jitter: 0 })
    })

    it.effect("interrupts a run past its timeout, runs its finalizers and retries it as a failed attempt", () =>
      Effect.gen(function* () {
        let started = 0
        let ensured = 0
        let released = 0
        const handlers = JobRegistry.add(
          Stuck.handle(() =>
            Effect.scoped(
              Effect.gen(function* () {
                started++
                yield* Effect.acquireRelease(Effect.void, () => Effect.sync(() => void released++))
                yield* Effect.sleep("10 seconds")
              })
            ).pipe(Effect.ensuring(Effect.sync(() => void ensured++)))
          )
        )
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const { id } = yield* Stuck.enqueue({})
          yield* startWorker({ concurrency: 1 })
          yield* settle
          assert.strictEqual(started, 1)
          yield* TestClock.adjust(999)
          assert.strictEqual(ensured, 0)
          yield* TestClock.adjust(1)
          assert.strictEqual(ensured, 1)
          assert.strictEqual(released, 1)

          const retrying = yield* get(id)
          assert.strictEqual(retrying?.state, "retry")
          assert.strictEqual(retrying?.attempt, 1)
          assert.strictEqual(retrying?.runAt, 1_000 + 5_000)
          assert.strictEqual(retrying?.errors.length, 1)
          assert.strictEqual(retrying?.errors[0]?.tag, "JobTimeout")
          assert.match(retrying!.errors[0]!.message, /Stuck timed out after 1s/)
          assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Failed", "Retried"])

          // Retried by the policy: 5 s, then 10 s, then the dead set after the third attempt.
          yield* TestClock.adjust("5 seconds")
          assert.strictEqual(started, 2)
          yield* TestClock.adjust("1 second")
          assert.strictEqual((yield* get(id))?.runAt, 7_000 + 10_000)
          yield* TestClock.adjust("10 seconds")
          assert.strictEqual(started, 3)
          yield* TestClock.adjust("1 second")
          const dead = yield* get(id)
          assert.strictEqual(dead?.state, "dead")
          assert.deepStrictEqual(
            dead?.errors.map((e) => [e.attempt, e.tag]),
            [
              [1, "JobTimeout"],
              [2, "JobTimeout"],
              [3, "JobTimeout"]
            ]
          )
          assert.match(dead!.deadReason!, /JobTimeout.*exhausted after 3 attempts/)
          assert.strictEqual(ensured, 3)
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )

    it.effect("leaves a run that finishes within its timeout alone", () =>
      Effect.gen(function* () {
        const Quick = Job.make("Quick", { payload: {}, timeout: "1 second" })
        let finished = 0
        const handlers = JobRegistry.add(
          Quick.handle(() => Effect.sleep(999).pipe(Effect.andThen(Effect.sync(() => void finished++))))
        )
        yield* Effect.gen(function* () {
          const { id } = yield* Quick.enqueue({})
          yield* startWorker()
          yield* TestClock.adjust("2 seconds")
          assert.strictEqual(finished, 1)
          assert.isUndefined(yield* get(id))
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )
  })

  describe("shutdown", () => {
    it.effect("waits for running jobs up to shutdownTimeout, then requeues the rest at the head uncounted", () =>
      Effect.gen(function* () {
        const finalized: Array<string> = []
        const finished: Array<string> = []
        const handlers = JobRegistry.add(
          Nap.handle(({ seconds }, job) =>
            Effect.sleep(`${seconds} seconds`).pipe(
              Effect.andThen(Effect.sync(() => void finished.push(job.id))),
              Effect.onInterrupt(() => Effect.sync(() => void finalized.push(job.id)))
            )
          )
        )
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const quick = yield* Nap.enqueueMany([{ seconds: 5 }, { seconds: 5 }])
          const slow = yield* Nap.enqueueMany([{ seconds: 60 }, { seconds: 60 }])
          const { stop, worker } = yield* startWorker({ concurrency: 5, shutdownTimeout: "10 seconds" })
          yield* settle
          assert.strictEqual((yield* worker.running).length, 4)

          const stopping = yield* Effect.forkChild(stop)
          yield* settle
          // Quiet now: a job enqueued during shutdown is not claimed.
          const waiting = yield* Nap.enqueue({ seconds: 0 })
          yield* settle
          assert.strictEqual((yield* get(waiting.id))?.state, "ready")
          assert.isTrue((yield* worker.info).quiet)

          yield* TestClock.adjust("5 seconds")
          assert.sameMembers(
            finished,
            quick.map((r) => r.id)
          )
          for (const { id } of quick) assert.isUndefined(yield* get(id), "finished in time: acked")
          yield* TestClock.adjust(4_999)
          assert.deepStrictEqual(finalized, [])
          assert.isUndefined(stopping.pollUnsafe())
          yield* TestClock.adjust(1)
          yield* Fiber.join(stopping)

          assert.sameMembers(
            finalized,
            slow.map((r) => r.id)
          )
          for (const { id } of slow) {
            const job = yield* get(id)
            assert.strictEqual(job?.state, "ready")
            assert.strictEqual(job?.attempt, 0, "an interrupted attempt is not counted")
            assert.deepStrictEqual(job?.errors, [])
          }
          const queue = yield* QueueStore.QueueStore.use((store) =>
            store.listQueue("default", { offset: 0, limit: 10 })
          )
          assert.sameMembers(
            queue.jobs.slice(0, 2).map((j) => j.id),
            slow.map((r) => r.id)
          )
          assert.strictEqual(queue.jobs[2]?.id, waiting.id)

          const events = yield* take
          for (const { id } of quick) assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Succeeded"])
          for (const { id } of slow) assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Requeued"])
          assert.deepStrictEqual(yield* ProcessRegistry.ProcessRegistry.use((p) => p.list), [])
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )

    it.effect("a requeued job runs again from the start on the next worker", () =>
      Effect.gen(function* () {
        const attempts: Array<number> = []
        const handlers = JobRegistry.add(
          Nap.handle(({ seconds }, job) =>
            Effect.sync(() => void attempts.push(job.attempt)).pipe(Effect.andThen(Effect.sleep(`${seconds} seconds`)))
          )
        )
        yield* Effect.gen(function* () {
          const { id } = yield* Nap.enqueue({ seconds: 30 })
          const first = yield* startWorker({ shutdownTimeout: "1 second" })
          yield* settle
          const stopping = yield* Effect.forkChild(first.stop)
          yield* TestClock.adjust("1 second")
          yield* Fiber.join(stopping)
          yield* startWorker()
          yield* settle
          yield* TestClock.adjust("30 seconds")
          assert.deepStrictEqual(attempts, [1, 1])
          assert.isUndefined(yield* get(id))
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )

    it.effect("shuts down at once when nothing runs", () =>
      Effect.gen(function* () {
        const handlers = JobRegistry.add(Nap.handle(() => Effect.void))
        yield* Effect.gen(function* () {
          const { stop } = yield* startWorker({ shutdownTimeout: "1 hour" })
          yield* settle
          yield* stop
          assert.deepStrictEqual(yield* ProcessRegistry.ProcessRegistry.use((p) => p.list), [])
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )

    it.effect("a quiet worker finishes what it runs and claims nothing new", () =>
      Effect.gen(function* () {
        const finished: Array<string> = []
        const handlers = JobRegistry.add(
          Nap.handle(({ seconds }, job) =>
            Effect.sleep(`${seconds} seconds`).pipe(Effect.andThen(Effect.sync(() => void finished.push(job.id))))
          )
        )
        yield* Effect.gen(function* () {
          const running = yield* Nap.enqueue({ seconds: 5 })
          const { worker } = yield* startWorker({ concurrency: 4 })
          yield* settle
          yield* worker.quiet
          const later = yield* Nap.enqueue({ seconds: 0 })
          const scheduled = yield* Nap.enqueue({ seconds: 0 }, { delay: "2 seconds" })
          yield* TestClock.adjust("1 minute")
          assert.deepStrictEqual(finished, [running.id])
          assert.strictEqual((yield* get(later.id))?.state, "ready")
          assert.strictEqual((yield* get(scheduled.id))?.state, "scheduled")
          assert.isTrue((yield* worker.info).quiet)
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )
  })

  it.effect("reaps leases that ran out at start, not one reap interval later", () =>
    Effect.gen(function* () {
      const ran: Array<string> = []
      const handlers = JobRegistry.add(Nap.handle((_, job) => Effect.sync(() => void ran.push(job.id))))
      yield* Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        const { id } = yield* Nap.enqueue({ seconds: 0 })
        // A worker that claimed the job and died: its lease runs out, nobody reaped it yet.
        yield* store.claim({ queues: ["default"], limit: 1, owner: "died", leaseMillis: 1_000 })
        yield* TestClock.adjust("2 seconds")
        yield* startWorker({ concurrency: 1, reapInterval: "1 hour" })
        yield* settle
        assert.deepStrictEqual(ran, [id])
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("interrupts a job whose lease another process took, and its late settlement changes nothing", () =>
    Effect.gen(function* () {
      // This worker's store connection fails renewals for a while (a network partition);
      // meanwhile another process reaps the expired lease and claims the job.
      let partitioned = false
      const flakyStore = memoryStoreRenewing((store, leases, millis) =>
        partitioned
          ? Effect.fail(new QueueStore.QueueStoreError({ message: "connection lost", retryable: true }))
          : store.extendLeases(leases, millis)
      )
      const interrupted: Array<string> = []
      const handlers = JobRegistry.add(
        Nap.handle(({ seconds }, job) =>
          Effect.sleep(`${seconds} seconds`).pipe(
            Effect.onInterrupt(() => Effect.sync(() => void interrupted.push(job.id)))
          )
        )
      )
      yield* Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        const take = yield* recordEvents
        const { id } = yield* Nap.enqueue({ seconds: 3600 })
        const { worker } = yield* startWorker({ concurrency: 1, leaseDuration: "3 seconds", reapInterval: "1 hour" })
        yield* settle
        partitioned = true
        yield* TestClock.adjust("3 seconds")
        assert.deepStrictEqual(interrupted, [], "a failed renewal alone does not stop the job")

        assert.strictEqual(yield* store.reap, 1)
        const [other] = yield* store.claim({ queues: ["default"], limit: 1, owner: "other", leaseMillis: 60_000 })
        assert.strictEqual(other?.id, id)
        assert.strictEqual(other?.attempt, 2)

        partitioned = false
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(interrupted, [id])
        assert.deepStrictEqual(yield* worker.running, [])

        const job = yield* get(id)
        assert.strictEqual(job?.state, "leased", "still the other owner's")
        assert.strictEqual(job?.attempt, 2, "the stale requeue did not give the attempt back")
        assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started"])
        assert.strictEqual(yield* store.ack([{ id, token: other!.token }]), 1)
      }).pipe(Effect.provide(jobsLayer(handlers, { store: flakyStore })))
    })
  )

  it.effect("keeps renewing a re-claimed job's new run while its earlier run is still stopping", () =>
    Effect.gen(function* () {
      // Renewals of one job's lease fail for a while, so it expires and is re-queued; this worker
      // claims it again while the first run (which ignores interruption) is still stopping.
      let partitionedId: string | undefined
      const flakyStore = memoryStoreRenewing((store, leases, millis) =>
        store.extendLeases(
          leases.filter((lease) => lease.id !== partitionedId),
          millis
        )
      )
      const Stubborn = Job.make("Stubborn", { payload: {} })
      const runs: Array<number> = []
      const handlers = JobRegistry.add(
        Nap.handle(({ seconds }) => Effect.sleep(`${seconds} seconds`)),
        Stubborn.handle((_, job) =>
          Effect.suspend(() => {
            runs.push(job.attempt)
            return job.attempt === 1 ? Effect.uninterruptible(Effect.sleep("30 seconds")) : Effect.sleep("10 seconds")
          })
        )
      )
      yield* Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        // Claimed in this order: the short job's slot comes first, the stubborn one's second.
        yield* Nap.enqueue({ seconds: 5 })
        const { id } = yield* Stubborn.enqueue({})
        yield* startWorker({ concurrency: 3, leaseDuration: "3 seconds", reapInterval: "1 hour" })
        yield* settle
        partitionedId = id
        yield* TestClock.adjust("3 seconds")
        assert.strictEqual(yield* store.reap, 1)
        partitionedId = undefined
        yield* settle
        assert.deepStrictEqual(runs, [1], "the new run waits for the first to stop")
        // The short job ends and frees the first slot; from here the new run's lease must be the
        // one renewed, every second, for as long as the first run takes to stop.
        for (let second = 0; second < 20; second++) yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* store.reap, 0, "the new run's lease was kept alive")
        const job = yield* get(id)
        assert.strictEqual(job?.state, "leased")
        assert.strictEqual(job?.attempt, 2)
        for (let second = 0; second < 30; second++) yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(runs, [1, 2])
        assert.strictEqual((yield* stats).processed, 2)
      }).pipe(Effect.provide(jobsLayer(handlers, { store: flakyStore })))
    })
  )

  it.effect("keeps its process registry entry fresh while it runs and removes it on shutdown", () =>
    Effect.gen(function* () {
      const handlers = JobRegistry.add(Nap.handle(({ seconds }) => Effect.sleep(`${seconds} seconds`)))
      yield* Effect.gen(function* () {
        const processes = yield* ProcessRegistry.ProcessRegistry
        const { stop, worker } = yield* startWorker({
          queues: [
            ["urgent", 3],
            ["default", 1]
          ],
          concurrency: 7,
          heartbeatInterval: "5 seconds"
        })
        const [entry] = yield* processes.list
        assert.strictEqual(entry?.id, worker.id)
        assert.deepStrictEqual(entry?.queues, [
          { name: "urgent", weight: 3 },
          { name: "default", weight: 1 }
        ])
        assert.strictEqual(entry?.concurrency, 7)
        assert.deepStrictEqual(entry?.running, [])

        const { id } = yield* Nap.enqueue({ seconds: 60 })
        yield* settle
        yield* TestClock.adjust("5 seconds")
        const [beat] = yield* processes.list
        assert.strictEqual(beat?.beatAt, 5_000)
        assert.deepStrictEqual(
          beat?.running.map((job) => [job.id, job.name, job.queue, job.attempt]),
          [[id, "Nap", "default", 1]]
        )
        // Long past the entry's time to live, the heartbeat keeps it listed.
        yield* TestClock.adjust("50 seconds")
        assert.deepStrictEqual(
          (yield* processes.list).map((p) => p.id),
          [worker.id]
        )
        yield* TestClock.adjust("10 seconds")
        assert.deepStrictEqual((yield* processes.list)[0]?.running, [])
        yield* stop
        assert.deepStrictEqual(yield* processes.list, [])
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("records processed, failed, retried and dead counts per job and queue", () =>
    Effect.gen(function* () {
      const Fine = Job.make("Fine", { payload: {} })
      const Broken = Job.make("Broken", { payload: {}, queue: "fragile", retry: 1 })
      const handlers = JobRegistry.add(
        Fine.handle(() => Effect.void),
        Broken.handle(() => Effect.die("broken"))
      )
      yield* Effect.gen(function* () {
        yield* Fine.enqueueMany([{}, {}, {}])
        yield* Broken.enqueue({})
        yield* startWorker({ queues: ["default", "fragile"] })
        yield* settle
        yield* TestClock.adjust("1 minute")
        const snapshot = yield* Metric.snapshot
        const value = (id: string, attributes: Record<string, string>) => {
          const found = snapshot.find(
            (m) =>
              m.id === id &&
              Object.entries(attributes).every(([k, v]) => (m.attributes as Record<string, unknown>)?.[k] === v)
          )
          assert.isDefined(found, `${id} ${JSON.stringify(attributes)}`)
          return found!.state as { readonly count: number }
        }
        assert.strictEqual(value("effect_jobs_enqueued_total", { job: "Fine", queue: "default" }).count, 3)
        assert.strictEqual(value("effect_jobs_processed_total", { job: "Fine", queue: "default" }).count, 3)
        assert.strictEqual(value("effect_jobs_failed_total", { job: "Broken", queue: "fragile" }).count, 2)
        assert.strictEqual(value("effect_jobs_retried_total", { job: "Broken", queue: "fragile" }).count, 1)
        assert.strictEqual(value("effect_jobs_dead_total", { job: "Broken", queue: "fragile" }).count, 1)
        assert.strictEqual(value("effect_jobs_run_duration", { job: "Fine", queue: "default" }).count, 3)
        assert.strictEqual(value("effect_jobs_queue_latency", { job: "Broken", queue: "fragile" }).count, 2)
        assert.isUndefined(
          snapshot.find(
            (m) => m.id === "effect_jobs_processed_total" && (m.attributes as Record<string, unknown>)?.job === "Broken"
          )
        )
        // The app's own attributes are kept, but a job's `job` and `queue` win over them.
        assert.strictEqual(value("effect_jobs_processed_total", { job: "Fine", service: "api" }).count, 3)
        assert.strictEqual(value("effect_jobs_enqueued_total", { job: "Fine", service: "api" }).count, 3)
        assert.isUndefined(snapshot.find((m) => (m.attributes as Record<string, unknown>)?.job === "billing-worker"))
      }).pipe(Effect.provide(jobsLayer(handlers)))
    }).pipe(
      Effect.provideService(Metric.MetricRegistry, new Map()),
      Effect.provideService(Metric.CurrentMetricAttributes, { job: "billing-worker", service: "api" })
    )
  )

  describe("configuration", () => {
    const configError = (options: JobWorker.WorkerOptions) =>
      Effect.gen(function* () {
        const handlers = JobRegistry.add(Nap.handle(() => Effect.void))
        return yield* Effect.flip(startWorker(options)).pipe(Effect.provide(jobsLayer(handlers)))
      })

    it.effect("fails the layer with WorkerConfigError naming the bad option", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [JobWorker.WorkerOptions, string, RegExp]> = [
          [{ concurrency: 0 }, "concurrency", /whole number >= 1, got 0/],
          [{ concurrency: 2.5 }, "concurrency", /got 2.5/],
          [{ queues: [["urgent", -1]] }, "queues", /weight of urgent must be a positive number, got -1/],
          [{ queues: ["my queue"] }, "queues", /"my queue"/],
          [{ queues: [] }, "queues", /at least one queue/],
          [{ shutdownTimeout: "abc" as never }, "shutdownTimeout", /positive duration.*abc/],
          [{ leaseDuration: 0 }, "leaseDuration", /positive duration/],
          [{ pollInterval: "-1 seconds" as never }, "pollInterval", /positive duration/]
        ]
        for (const [options, option, message] of cases) {
          const error = yield* configError(options)
          assert.strictEqual(error._tag, "WorkerConfigError")
          assert.strictEqual(error.option, option, JSON.stringify(options))
          assert.match(error.message, message)
        }
      })
    )
  })
})
