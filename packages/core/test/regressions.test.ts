/**
 * Regression tests for defects found in review: each test reproduces what a user saw and
 * asserts the behaviour they should see instead. Everything runs on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Option, References, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobRegistry, type Middleware, QueueStore, RetryPolicy } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"
import { jobsLayer, provideMiddleware, recordEvents, settle, startWorker, tagsFor, wrappedStore } from "./helpers.ts"

/** `retries` retries, ten seconds apart, no jitter: due times are exact. */
const everyTenSeconds = (retries: number) =>
  RetryPolicy.exponential({ maxRetries: retries, base: "10 seconds", factor: 1, jitter: 0 })

/** A job whose handler sleeps `seconds` on the clock. */
const Nap = Job.make("Nap", { payload: { seconds: Schema.Number } })

const get = (id: string) =>
  QueueStore.QueueStore.use((store) => Effect.map(store.get(id), (found) => Option.getOrUndefined(found)))

const stats = QueueStore.QueueStore.use((store) => store.stats)

const storeDown = () => new QueueStore.QueueStoreError({ message: "connection reset", retryable: true })

describe("regressions", () => {
  it.effect(
    "a job its own worker re-claims after its lease lapsed never runs twice at once there, the worker stays within its concurrency, and the job succeeds once",
    () =>
      Effect.gen(function* () {
        // Lease renewals fail for a while (a store blip): the worker's own reaper re-queues the
        // job and its fetcher claims it again while the first run is still going.
        let renewalsToFail = 4
        const flakyStore = wrappedStore((store) => ({
          extendLeases: (leases, millis) =>
            Effect.suspend(() => (renewalsToFail-- > 0 ? Effect.fail(storeDown()) : store.extendLeases(leases, millis)))
        }))
        const runsOf = new Map<string, number>()
        let inFlight = 0
        let maxInFlight = 0
        let maxRunsOfOneJob = 0
        const handlers = JobRegistry.add(
          Nap.handle(({ seconds }, job) =>
            Effect.gen(function* () {
              const runs = (runsOf.get(job.id) ?? 0) + 1
              runsOf.set(job.id, runs)
              maxRunsOfOneJob = Math.max(maxRunsOfOneJob, runs)
              inFlight++
              maxInFlight = Math.max(maxInFlight, inFlight)
              yield* Effect.sleep(`${seconds} seconds`)
            }).pipe(
              Effect.ensuring(
                Effect.sync(() => {
                  runsOf.set(job.id, (runsOf.get(job.id) ?? 1) - 1)
                  inFlight--
                })
              )
            )
          )
        )
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const first = yield* Nap.enqueue({ seconds: 10 })
          yield* startWorker({ concurrency: 2, leaseDuration: "3 seconds", reapInterval: "1 second" })
          yield* settle
          for (let second = 0; second < 5; second++) yield* TestClock.adjust("1 second")
          assert.isAtLeast((yield* get(first.id))?.attempt ?? 0, 2, "the worker re-claimed the job")

          // More work arrives: the worker must count both runs of the first job as busy slots.
          const more = yield* Nap.enqueueMany([{ seconds: 10 }, { seconds: 10 }])
          for (let second = 0; second < 60; second++) yield* TestClock.adjust("1 second")

          assert.strictEqual(maxRunsOfOneJob, 1, "a job ran twice at once in one worker")
          assert.isAtMost(maxInFlight, 2, "the worker ran more jobs than its concurrency")
          const events = yield* take
          for (const { id } of [first, ...more]) {
            assert.isUndefined(yield* get(id))
            assert.strictEqual(tagsFor(events, id).filter((tag) => tag === "Succeeded").length, 1)
          }
          const after = yield* stats
          assert.strictEqual(after.processed, 3)
          assert.strictEqual(after.leased, 0)
        }).pipe(Effect.provide(jobsLayer(handlers, { store: flakyStore })))
      })
  )

  it.effect("a handler that interrupts itself fails its attempt as Interrupted, is retried, then dead", () =>
    Effect.gen(function* () {
      const SelfInterrupt = Job.make("SelfInterrupt", { payload: { n: Schema.Number }, retry: everyTenSeconds(2) })
      let runs = 0
      const handlers = JobRegistry.add(
        SelfInterrupt.handle(() => Effect.sync(() => void runs++).pipe(Effect.andThen(Effect.interrupt)))
      )
      yield* Effect.gen(function* () {
        const { id } = yield* SelfInterrupt.enqueue({ n: 1 })
        const first = yield* JobsTest.drain({ maxJobs: 10 })
        assert.strictEqual(first.requeued, 0, "not put back uncounted")
        assert.strictEqual(first.retried, 1)
        const retrying = yield* get(id)
        assert.strictEqual(retrying?.state, "retry")
        assert.strictEqual(retrying?.errors[0]?.tag, "Interrupted")

        for (let retry = 0; retry < 2; retry++) {
          yield* TestClock.adjust("10 seconds")
          yield* JobsTest.drain({ maxJobs: 10 })
        }
        const dead = yield* get(id)
        assert.strictEqual(dead?.state, "dead")
        assert.deepStrictEqual(
          dead?.errors.map((error) => error.tag),
          ["Interrupted", "Interrupted", "Interrupted"]
        )
        assert.strictEqual(runs, 3)
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("a job past its retry policy because earlier runs never settled goes to the dead set without running", () =>
    Effect.gen(function* () {
      const Poison = Job.make("Poison", { payload: { n: Schema.Number }, retry: everyTenSeconds(2) })
      let runs = 0
      const handlers = JobRegistry.add(Poison.handle(() => Effect.sync(() => void runs++)))
      yield* Effect.gen(function* () {
        const store = yield* QueueStore.QueueStore
        const { id } = yield* Poison.enqueue({ n: 1 })
        // Three runs, as many as the policy allows, each crashing its process mid-run:
        // the lease expires and the reaper puts the job back, its attempt counted.
        for (let death = 0; death < 3; death++) {
          const [claimed] = yield* store.claim({ queues: ["default"], limit: 1, owner: "doomed", leaseMillis: 1_000 })
          assert.strictEqual(claimed?.id, id)
          yield* TestClock.adjust("1 second")
          assert.strictEqual(yield* store.reap, 1)
        }

        const result = yield* JobsTest.drain()
        assert.strictEqual(result.dead, 1)
        assert.strictEqual(result.succeeded, 0)
        assert.strictEqual(runs, 0, "the handler did not run a fourth time")
        const dead = yield* get(id)
        assert.strictEqual(dead?.state, "dead")
        assert.match(dead?.deadReason ?? "", /never settled/)
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect(
    "a handler or middleware that throws while building its effect fails the attempt, is retried, then dead, and releases the lease",
    () =>
      Effect.gen(function* () {
        const Thrower = Job.make("Thrower", { payload: { n: Schema.Number }, retry: everyTenSeconds(1) })
        const Wrapped = Job.make("Wrapped", { payload: { n: Schema.Number }, retry: everyTenSeconds(1) })
        let throwerRuns = 0
        let wrappedRuns = 0
        let middlewareThrows = 0
        const handlers = JobRegistry.add(
          Thrower.handle((): Effect.Effect<void> => {
            throwerRuns++
            throw new Error("template missing")
          }),
          Wrapped.handle(() => Effect.sync(() => void wrappedRuns++))
        )
        const throwingMiddleware: Middleware.JobMiddleware = (run, job) => {
          if (job.name !== "Wrapped") return run
          middlewareThrows++
          throw new Error("tracer not configured")
        }
        yield* Effect.gen(function* () {
          const thrower = yield* Thrower.enqueue({ n: 1 })
          const wrapped = yield* Wrapped.enqueue({ n: 1 })
          yield* startWorker({ leaseDuration: "30 seconds" }).pipe(provideMiddleware(throwingMiddleware))
          yield* settle

          assert.strictEqual((yield* stats).leased, 0, "no lease left held")
          const [throwerRetry, wrappedRetry] = [yield* get(thrower.id), yield* get(wrapped.id)]
          assert.strictEqual(throwerRetry?.state, "retry")
          assert.include(throwerRetry?.errors[0]?.message ?? "", "template missing")
          assert.strictEqual(wrappedRetry?.state, "retry")
          assert.include(wrappedRetry?.errors[0]?.message ?? "", "tracer not configured")

          yield* TestClock.adjust("10 seconds")
          yield* settle
          assert.strictEqual((yield* get(thrower.id))?.state, "dead")
          assert.strictEqual((yield* get(wrapped.id))?.state, "dead")
          assert.strictEqual((yield* stats).leased, 0)
          assert.strictEqual(throwerRuns, 2)
          assert.strictEqual(middlewareThrows, 2)
          assert.strictEqual(wrappedRuns, 0)
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
  )

  it.effect("a succeeded job whose ack first meets a store error is acked on retry and runs only once", () =>
    Effect.gen(function* () {
      let acksToFail = 2
      // The worker's acks ride on its claims (`ackAndClaim`) and go alone (`ack`) when that fails.
      const flakyStore = wrappedStore((store) => ({
        ack: (leases) => Effect.suspend(() => (acksToFail-- > 0 ? Effect.fail(storeDown()) : store.ack(leases))),
        ackAndClaim: (acks, options) =>
          Effect.suspend(() =>
            acks.length > 0 && acksToFail-- > 0 ? Effect.fail(storeDown()) : store.ackAndClaim(acks, options)
          )
      }))
      let runs = 0
      const handlers = JobRegistry.add(Nap.handle(() => Effect.sync(() => void runs++)))
      yield* Effect.gen(function* () {
        const take = yield* recordEvents
        const { id } = yield* Nap.enqueue({ seconds: 0 })
        yield* startWorker({ leaseDuration: "3 seconds", reapInterval: "1 second" })
        yield* settle
        assert.strictEqual(runs, 1)
        assert.strictEqual((yield* get(id))?.state, "leased", "the ack waits for its retry")

        // Through the settlement's retry backoff, and far past the lease: no second run.
        yield* TestClock.adjust("1 second")
        assert.isUndefined(yield* get(id), "acked on retry")
        for (let second = 0; second < 60; second++) yield* TestClock.adjust("1 second")
        assert.strictEqual(runs, 1)
        assert.isUndefined(yield* get(id))
        assert.strictEqual((yield* stats).processed, 1)
        assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Succeeded"])
      }).pipe(Effect.provide(jobsLayer(handlers, { store: flakyStore })))
    })
  )

  it.effect("acks a claim could not settle (answered undefined) are sent on their own: the jobs succeed once", () =>
    Effect.gen(function* () {
      // A store whose claims succeed but whose acks fail part way (another queue's call failed).
      let unsettled = 0
      const partialStore = wrappedStore((store) => ({
        ackAndClaim: (acks, options) =>
          Effect.map(store.ackAndClaim([], options), (result) => {
            unsettled += acks.length
            return { acked: acks.map(() => undefined), jobs: result.jobs }
          })
      }))
      let runs = 0
      const handlers = JobRegistry.add(Nap.handle(() => Effect.sync(() => void runs++)))
      yield* Effect.gen(function* () {
        const take = yield* recordEvents
        const ids: Array<string> = []
        for (let i = 0; i < 5; i++) ids.push((yield* Nap.enqueue({ seconds: 0 })).id)
        yield* startWorker({ concurrency: 2 })
        yield* settle
        assert.strictEqual(runs, 5)
        assert.isAbove(unsettled, 0, "some acks rode on a claim")
        assert.strictEqual((yield* stats).processed, 5)
        const events = yield* take
        for (const id of ids) assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Succeeded"])
      }).pipe(Effect.provide(jobsLayer(handlers, { store: partialStore })))
    })
  )

  it.effect(
    "a succeeded job's ack riding on a claim that hangs at shutdown is sent on its own before shutdown ends",
    () =>
      Effect.gen(function* () {
        // Claims that carry acks never answer; acks sent on their own take half a second.
        let stuckClaims = 0
        const stuckStore = wrappedStore((store) => ({
          ack: (leases) => Effect.delay(store.ack(leases), "500 millis"),
          ackAndClaim: (acks, options) =>
            acks.length > 0
              ? Effect.suspend(() => {
                  stuckClaims++
                  return Effect.never
                })
              : store.ackAndClaim(acks, options)
        }))
        let runs = 0
        const handlers = JobRegistry.add(Nap.handle(() => Effect.sync(() => void runs++)))
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const { id } = yield* Nap.enqueue({ seconds: 0 })
          const { stop } = yield* startWorker({ concurrency: 2, shutdownTimeout: "1 second" })
          yield* settle
          assert.strictEqual(runs, 1)
          assert.strictEqual(stuckClaims, 1, "the ack rode on a claim")
          assert.strictEqual((yield* get(id))?.state, "leased")

          // Past the shutdown timeout the stuck claim is interrupted and its ack goes alone;
          // shutdown waits for that ack as it would for a running job.
          const stopping = yield* Effect.forkChild(stop)
          yield* settle
          yield* TestClock.adjust("1 second")
          yield* settle
          assert.isUndefined(stopping.pollUnsafe(), "shutdown waits for the ack")
          yield* TestClock.adjust("500 millis")
          yield* Fiber.join(stopping)
          assert.isUndefined(yield* get(id), "acked before shutdown ended")
          assert.strictEqual((yield* stats).processed, 1)
          assert.strictEqual(runs, 1)
          assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Succeeded"])
        }).pipe(Effect.provide(jobsLayer(handlers, { store: stuckStore })))
      })
  )

  it.effect("services, log annotations and spans a middleware puts around the run are visible in the handler", () =>
    Effect.gen(function* () {
      class Tenant extends Context.Service<Tenant, string>()("regressions/Tenant") {}
      const Greet = Job.make("Greet", { payload: { n: Schema.Number } })
      const seen: Array<{ tenant: string; span: string; annotations: Record<string, unknown> }> = []
      const handlers = JobRegistry.add(
        Greet.handle(() =>
          Effect.gen(function* () {
            const span = yield* Effect.option(Effect.currentSpan)
            seen.push({
              tenant: yield* Tenant,
              span: Option.match(span, { onNone: () => "none", onSome: (s) => s.name }),
              annotations: { ...(yield* References.CurrentLogAnnotations) }
            })
          })
        )
      ).pipe(Layer.provide(Layer.succeed(Tenant, "default-tenant")))
      const middleware: ReadonlyArray<Middleware.JobMiddleware> = [
        (run) =>
          run.pipe(
            Effect.provideService(Tenant, "acme"),
            Effect.annotateLogs({ tenant: "acme" }),
            Effect.withSpan("job-span")
          )
      ]
      yield* Effect.gen(function* () {
        const { id } = yield* Greet.enqueue({ n: 1 })
        yield* JobsTest.drain().pipe(provideMiddleware(...middleware))
        assert.strictEqual(seen.length, 1)
        assert.strictEqual(seen[0]?.tenant, "acme")
        assert.strictEqual(seen[0]?.span, "job-span")
        assert.strictEqual(seen[0]?.annotations.tenant, "acme")
        assert.strictEqual(seen[0]?.annotations.jobId, id)
        assert.strictEqual(seen[0]?.annotations.job, "Greet")
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect("a handler's acquireRelease resource is released when its job ends, while the worker keeps running", () =>
    Effect.gen(function* () {
      let opened = 0
      let released = 0
      const handlers = JobRegistry.add(
        Nap.handle(({ seconds }) =>
          Effect.acquireRelease(
            Effect.sync(() => void opened++),
            () => Effect.sync(() => void released++)
          ).pipe(Effect.andThen(Effect.sleep(`${seconds} seconds`)))
        )
      )
      yield* Effect.gen(function* () {
        yield* Nap.enqueueMany([{ seconds: 1 }, { seconds: 2 }])
        const { worker } = yield* startWorker({ concurrency: 2 })
        yield* settle
        assert.strictEqual(opened, 2)
        assert.strictEqual(released, 0)
        yield* TestClock.adjust("1 second")
        const releasedWhenTheFirstEnded = released
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual([releasedWhenTheFirstEnded, released], [1, 2], "released as each job ended")
        assert.isFalse((yield* worker.info).quiet, "the worker is still running")
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect(
    "shutdown with a handler stuck in an uninterruptible section ends after shutdownTimeout plus the stop grace, leaving the job leased",
    () =>
      Effect.gen(function* () {
        const handlers = JobRegistry.add(Nap.handle(() => Effect.uninterruptible(Effect.sleep("1 hour"))))
        yield* Effect.gen(function* () {
          const { id } = yield* Nap.enqueue({ seconds: 3600 })
          const { stop } = yield* startWorker({ shutdownTimeout: "200 millis" })
          yield* settle
          assert.strictEqual((yield* get(id))?.state, "leased")

          const stopping = yield* Effect.forkChild(stop)
          yield* TestClock.adjust("200 millis")
          assert.isUndefined(stopping.pollUnsafe(), "the stuck job gets its grace period")
          yield* TestClock.adjust("2 seconds")
          yield* settle
          assert.isDefined(stopping.pollUnsafe(), "shutdown finished instead of waiting an hour")
          yield* Fiber.join(stopping)
          // Not lost: its lease expires and any worker's reaper puts it back.
          assert.strictEqual((yield* get(id))?.state, "leased")
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
  )

  it.effect("a handler can enqueue a follow-up job without declaring the enqueue errors, and the follow-up runs", () =>
    Effect.gen(function* () {
      class MailerDown extends Schema.TaggedError<MailerDown>()("MailerDown", {}) {}
      const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number }, error: MailerDown })
      const FollowUp = Job.make("FollowUp", { payload: { userId: Schema.Number } })
      const followed: Array<number> = []
      // Compile-time half: `FollowUp.enqueue` fails with EnqueueError | QueueStoreError, which
      // SendWelcome's `error` schema does not list; the handler must still typecheck.
      const handlers = JobRegistry.add(
        SendWelcome.handle(({ userId }) => FollowUp.enqueue({ userId }).pipe(Effect.asVoid)),
        FollowUp.handle(({ userId }) => Effect.sync(() => void followed.push(userId)))
      )
      yield* Effect.gen(function* () {
        yield* SendWelcome.enqueue({ userId: 7 })
        const result = yield* JobsTest.drain()
        assert.strictEqual(result.succeeded, 2)
        assert.deepStrictEqual(followed, [7])
      }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
    })
  )
})
