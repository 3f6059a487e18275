import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Layer, Logger, Option, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { CurrentJob, Job, type JobEvents, JobRegistry, type Middleware, QueueStore, RetryPolicy } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"
import { jobsLayer, provideMiddleware, recordEvents, recordLogs, settle, startWorker, tagsFor } from "./helpers.ts"

class MailerDown extends Schema.TaggedError<MailerDown>()("MailerDown", { message: Schema.String }) {}

const get = (id: string) =>
  QueueStore.QueueStore.use((store) => Effect.map(store.get(id), (found) => Option.getOrUndefined(found)))

/** Ten seconds between retries, no jitter: due times are exact. */
const everyTenSeconds = RetryPolicy.exponential({ maxRetries: 5, base: "10 seconds", factor: 1, jitter: 0 })

/** A job whose handler does what the payload says. */
const Outcome = Job.make("Outcome", {
  payload: {
    kind: Schema.Literals(["succeed", "fail", "die", "unrecoverable", "discard", "retryIn"])
  },
  error: MailerDown,
  retry: everyTenSeconds
})

const outcomeHandlers = JobRegistry.add(
  Outcome.handle(({ kind }) => {
    switch (kind) {
      case "succeed":
        return Effect.void
      case "fail":
        return Effect.fail(new MailerDown({ message: "smtp refused the connection" }))
      case "die":
        return Effect.die(new Error("null pointer in template"))
      case "unrecoverable":
        return Effect.fail(new Job.Unrecoverable({ message: "the account is closed" }))
      case "discard":
        return Effect.fail(new Job.Discard({ reason: "stale" }))
      case "retryIn":
        return Effect.fail(Job.RetryIn.after("30 seconds", "rate limited"))
    }
  })
)

class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  account: Schema.String,
  limit: Schema.Number
}) {}

const quotaKinds = ["fields", "plain", "message", "unshowable", "long", "hostile", "proxy"] as const

/** Fails with an error that carries data but no message, or dies with a plain or a hostile object. */
const Quota = Job.make("Quota", {
  payload: { kind: Schema.Literals(quotaKinds) },
  error: QuotaExceeded,
  retry: everyTenSeconds
})

const quotaHandlers = JobRegistry.add(
  Quota.handle(({ kind }) => {
    if (kind === "fields") return Effect.fail(new QuotaExceeded({ account: "acme", limit: 100 }))
    if (kind === "plain") return Effect.die({ code: "E42" })
    if (kind === "message") return Effect.die({ message: "disk full" })
    if (kind === "unshowable") return Effect.die({ retry: () => 1, big: 10n, code: "E7" })
    if (kind === "long") return Effect.die({ long: "x".repeat(10_000) })
    if (kind === "proxy") {
      return Effect.die(
        new Proxy(
          {},
          {
            get: () => {
              throw new Error("revoked")
            }
          }
        )
      )
    }
    // A property that throws when read, as some lazy SDK objects do.
    return Effect.die(
      Object.defineProperty({}, "detail", {
        enumerable: true,
        get: () => {
          throw new Error("not loaded")
        }
      })
    )
  })
)

/** Runs one failing `Quota` job of each kind and gives each job's stored error (all are retried). */
const firstErrors = (...kinds: ReadonlyArray<(typeof quotaKinds)[number]>) =>
  Effect.gen(function* () {
    const ids: Array<string> = []
    for (const kind of kinds) ids.push((yield* Quota.enqueue({ kind })).id)
    assert.strictEqual((yield* JobsTest.drain()).retried, kinds.length)
    return yield* Effect.forEach(ids, (id) => Effect.map(get(id), (job) => job?.errors[0]))
  })

describe("Processor", () => {
  describe("settles each run from its exit", () => {
    it.effect("success acks the job: it is gone", () =>
      Effect.gen(function* () {
        const take = yield* recordEvents
        const { id } = yield* Outcome.enqueue({ kind: "succeed" })
        const result = yield* JobsTest.drain()
        assert.strictEqual(result.succeeded, 1)
        assert.isUndefined(yield* get(id))
        assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Succeeded"])
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )

    it.effect("a typed failure goes to the retry set with the error and the policy's delay", () =>
      Effect.gen(function* () {
        const take = yield* recordEvents
        yield* TestClock.adjust("1 hour")
        const now = yield* Clock.currentTimeMillis
        const { id } = yield* Outcome.enqueue({ kind: "fail" })
        const result = yield* JobsTest.drain()
        assert.strictEqual(result.retried, 1)
        const job = yield* get(id)
        assert.strictEqual(job?.state, "retry")
        assert.strictEqual(job?.attempt, 1)
        assert.strictEqual(job?.runAt, now + 10_000)
        assert.strictEqual(job?.errors.length, 1)
        const error = job!.errors[0]!
        assert.strictEqual(error.attempt, 1)
        assert.strictEqual(error.tag, "MailerDown")
        assert.strictEqual(error.message, "smtp refused the connection")
        assert.strictEqual(error.at, now)
        assert.include(error.cause, "MailerDown")
        assert.include(error.cause, "smtp refused the connection")
        assert.deepStrictEqual(yield* JobsTest.retries, [job!])

        const events = yield* take
        assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Failed", "Retried"])
        const retried = events.find((e): e is JobEvents.Retried => e._tag === "Retried")
        assert.strictEqual(retried?.delayMillis, 10_000)
        assert.isTrue(retried?.counted)

        // Not due yet: draining early runs nothing; at the due time it runs as attempt 2.
        yield* TestClock.adjust(9_999)
        assert.deepStrictEqual((yield* JobsTest.drain()).ran, [])
        yield* TestClock.adjust(1)
        assert.deepStrictEqual((yield* JobsTest.drain()).ran, [id])
        assert.strictEqual((yield* get(id))?.attempt, 2)
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )

    it.effect("a defect is retried the same way", () =>
      Effect.gen(function* () {
        const { id } = yield* Outcome.enqueue({ kind: "die" })
        assert.strictEqual((yield* JobsTest.drain()).retried, 1)
        const job = yield* get(id)
        assert.strictEqual(job?.state, "retry")
        assert.strictEqual(job?.runAt, 10_000)
        assert.strictEqual(job?.errors[0]?.tag, "Defect")
        assert.strictEqual(job?.errors[0]?.message, "Error: null pointer in template")
        assert.include(job?.errors[0]?.cause, "null pointer in template")
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )

    it.effect("an error without a message is described by its fields, a plain-object defect by its JSON", () =>
      Effect.gen(function* () {
        const [fields, defect] = yield* firstErrors("fields", "plain")
        assert.strictEqual(fields?.tag, "QuotaExceeded")
        assert.strictEqual(fields?.message, `{"account":"acme","limit":100}`)
        assert.include(fields?.cause, "QuotaExceeded")
        assert.strictEqual(defect?.tag, "Defect")
        assert.strictEqual(defect?.message, `{"code":"E42"}`)
      }).pipe(Effect.provide(jobsLayer(quotaHandlers)))
    )

    it.effect("a defect with a message field, or fields JSON cannot show, is described by what can be shown", () =>
      Effect.gen(function* () {
        const [message, unshowable, long] = yield* firstErrors("message", "unshowable", "long")
        assert.strictEqual(message?.message, "disk full")
        assert.strictEqual(unshowable?.message, `{"code":"E7"}`)
        const cut = long?.message ?? ""
        assert.isTrue(cut.startsWith(`{"long":"xxx`) && cut.endsWith("…}") && cut.length <= 502, cut.slice(0, 40))
      }).pipe(Effect.provide(jobsLayer(quotaHandlers)))
    )

    it.effect("a defect whose properties throw when read is still retried, described as far as it can be", () =>
      Effect.gen(function* () {
        const [getter, proxy] = yield* firstErrors("hostile", "proxy")
        assert.strictEqual(getter?.tag, "Defect")
        assert.strictEqual(getter?.message, "[object Object]")
        assert.include(getter?.cause, "could not be rendered")
        assert.strictEqual(proxy?.tag, "Defect")
        assert.include(proxy?.message, "could not be read")
      }).pipe(Effect.provide(jobsLayer(quotaHandlers)))
    )

    it.effect("Unrecoverable sends the job to the dead set at once with its reason", () =>
      Effect.gen(function* () {
        const take = yield* recordEvents
        const { id } = yield* Outcome.enqueue({ kind: "unrecoverable" })
        assert.strictEqual((yield* JobsTest.drain()).dead, 1)
        const job = yield* get(id)
        assert.strictEqual(job?.state, "dead")
        assert.strictEqual(job?.attempt, 1)
        assert.strictEqual(job?.deadReason, "Unrecoverable: the account is closed")
        assert.strictEqual(job?.errors[0]?.tag, "Unrecoverable")
        assert.deepStrictEqual(yield* JobsTest.retries, [])
        const events = yield* take
        assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Failed", "Dead"])
        const dead = events.find((e): e is JobEvents.Dead => e._tag === "Dead")
        assert.strictEqual(dead?.reason, "Unrecoverable: the account is closed")
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )

    it.effect("Discard drops the job: gone, and not dead", () =>
      Effect.gen(function* () {
        const take = yield* recordEvents
        const { id } = yield* Outcome.enqueue({ kind: "discard" })
        assert.strictEqual((yield* JobsTest.drain()).discarded, 1)
        assert.isUndefined(yield* get(id))
        assert.deepStrictEqual(yield* JobsTest.dead, [])
        assert.deepStrictEqual(yield* JobsTest.retries, [])
        assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Discarded"])
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )

    it.effect("RetryIn reschedules after its delay without counting the attempt", () =>
      Effect.gen(function* () {
        const take = yield* recordEvents
        const { id } = yield* Outcome.enqueue({ kind: "retryIn" })
        assert.strictEqual((yield* JobsTest.drain()).retried, 1)
        const job = yield* get(id)
        assert.strictEqual(job?.state, "retry")
        assert.strictEqual(job?.runAt, 30_000)
        assert.strictEqual(job?.attempt, 0)
        assert.deepStrictEqual(job?.errors, [])
        const events = yield* take
        assert.deepStrictEqual(tagsFor(events, id), ["Enqueued", "Started", "Retried"])
        const retried = events.find((e): e is JobEvents.Retried => e._tag === "Retried")
        assert.strictEqual(retried?.delayMillis, 30_000)
        assert.isFalse(retried?.counted)

        yield* TestClock.adjust(29_999)
        assert.deepStrictEqual((yield* JobsTest.drain()).ran, [])
        yield* TestClock.adjust(1)
        assert.deepStrictEqual((yield* JobsTest.drain()).ran, [id])
        // The second run is again attempt 1: RetryIn never uses up retries.
        assert.strictEqual((yield* get(id))?.attempt, 0)
      }).pipe(Effect.provide(jobsLayer(outcomeHandlers)))
    )
  })

  describe("retry limits", () => {
    const failing = <J extends Job.Job<string, any, any, any>>(job: J) =>
      JobRegistry.add(job.handle(() => Effect.fail(new MailerDown({ message: "down" }))))

    it.effect("retry: false sends the first failure to the dead set", () =>
      Effect.gen(function* () {
        const Once = Job.make("Once", { payload: {}, error: MailerDown, retry: false })
        yield* Effect.gen(function* () {
          const { id } = yield* Once.enqueue({})
          assert.strictEqual((yield* JobsTest.drain()).dead, 1)
          const job = yield* get(id)
          assert.strictEqual(job?.state, "dead")
          assert.strictEqual(job?.attempt, 1)
          assert.match(job!.deadReason!, /MailerDown: down \(retries are off for Once\)/)
          assert.strictEqual(job?.errors.length, 1)
        }).pipe(Effect.provide(jobsLayer(failing(Once))))
      })
    )

    it.effect("retry: 2 runs three times, then the dead set holds every attempt's error", () =>
      Effect.gen(function* () {
        const Twice = Job.make("Twice", { payload: {}, error: MailerDown, retry: 2 })
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const { id } = yield* Twice.enqueue({})
          let runs = 0
          for (let i = 0; i < 10 && (yield* get(id))?.state !== "dead"; i++) {
            runs += (yield* JobsTest.drain()).ran.length
            // Sidekiq's backoff for retries 1 and 2 is at most 24 s and 34 s.
            yield* TestClock.adjust("35 seconds")
          }
          assert.strictEqual(runs, 3)
          const job = yield* get(id)
          assert.strictEqual(job?.state, "dead")
          assert.strictEqual(job?.attempt, 3)
          assert.match(job!.deadReason!, /MailerDown: down \(retries exhausted after 3 attempts\)/)
          assert.deepStrictEqual(
            job?.errors.map((e) => [e.attempt, e.tag, e.message]),
            [
              [1, "MailerDown", "down"],
              [2, "MailerDown", "down"],
              [3, "MailerDown", "down"]
            ]
          )
          assert.deepStrictEqual(
            (yield* JobsTest.dead).map((j) => j.id),
            [id]
          )
          assert.deepStrictEqual(tagsFor(yield* take, id), [
            "Enqueued",
            "Started",
            "Failed",
            "Retried",
            "Started",
            "Failed",
            "Retried",
            "Started",
            "Failed",
            "Dead"
          ])
        }).pipe(Effect.provide(jobsLayer(failing(Twice))))
      })
    )

    it.effect("a Schedule policy retries at its delays and dead-letters the job when it ends", () =>
      Effect.gen(function* () {
        const Scheduled = Job.make("Scheduled", {
          payload: {},
          error: MailerDown,
          retry: Schedule.max([Schedule.exponential("1 second"), Schedule.recurs(2)])
        })
        yield* Effect.gen(function* () {
          const { id } = yield* Scheduled.enqueue({})
          const waits: Array<number> = []
          while ((yield* get(id))?.state !== "dead" && waits.length < 10) {
            yield* JobsTest.drain()
            const job = yield* get(id)
            if (job?.state !== "retry") break
            const wait = job.runAt - (yield* Clock.currentTimeMillis)
            waits.push(wait)
            yield* TestClock.adjust(Duration.millis(wait))
          }
          assert.deepStrictEqual(waits, [1_000, 2_000])
          const job = yield* get(id)
          assert.strictEqual(job?.state, "dead")
          assert.match(job!.deadReason!, /retries exhausted after 3 attempts/)
        }).pipe(Effect.provide(jobsLayer(failing(Scheduled))))
      })
    )
  })

  describe("malformed records", () => {
    const Good = Job.make("Good", { payload: { n: Schema.Number, label: Schema.optional(Schema.String) } })

    it.effect("go to the dead set with a reason and never block the jobs behind them", () =>
      Effect.gen(function* () {
        const ran: Array<number> = []
        const handlers = JobRegistry.add(Good.handle(({ n }) => Effect.sync(() => void ran.push(n))))
        yield* Effect.gen(function* () {
          const store = yield* QueueStore.QueueStore
          yield* store.enqueue([
            { id: "not-json", name: "Good", queue: "default", payload: "{n: 1" },
            { id: "wrong-shape", name: "Good", queue: "default", payload: JSON.stringify({ n: "one" }) },
            { id: "two-wrong", name: "Good", queue: "default", payload: JSON.stringify({ n: "one", label: 2 }) },
            { id: "unknown-name", name: "Vanished", queue: "default", payload: "{}" }
          ])
          const good = yield* Good.enqueue({ n: 7 })
          // One slot: the good job can only run if every bad record before it was settled.
          yield* startWorker({ concurrency: 1 })
          yield* settle
          assert.deepStrictEqual(ran, [7])
          assert.isUndefined(yield* get(good.id))

          const reasons = new Map((yield* JobsTest.dead).map((job) => [job.id, job.deadReason ?? ""]))
          assert.strictEqual(reasons.size, 4)
          assert.match(reasons.get("not-json")!, /^Good\.payload is not JSON/)
          assert.match(reasons.get("wrong-shape")!, /^Good\.payload does not match the job's schema: payload\.n: /)
          assert.include(reasons.get("wrong-shape"), "one")
          // Every issue is named, not only the first.
          assert.match(reasons.get("two-wrong")!, /payload\.n: .*; payload\.label: /)
          assert.match(reasons.get("unknown-name")!, /unknown job name "Vanished"/)
          assert.include(reasons.get("unknown-name"), "no handler is registered")
        }).pipe(Effect.provide(jobsLayer(handlers)))
      })
    )

    it.effect("name a string for a number field plainly and keep a 200 KB value out of the reason and the log", () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const handlers = JobRegistry.add(Good.handle(() => Effect.void))
        yield* Effect.gen(function* () {
          const store = yield* QueueStore.QueueStore
          yield* store.enqueue([
            { id: "seven", name: "Good", queue: "default", payload: JSON.stringify({ n: "seven" }) },
            { id: "huge", name: "Good", queue: "default", payload: JSON.stringify({ n: "x".repeat(200_000) }) }
          ])
          yield* startWorker({ concurrency: 1 })
          yield* settle
          const reasons = new Map((yield* JobsTest.dead).map((job) => [job.id, job.deadReason ?? ""]))
          assert.strictEqual(
            reasons.get("seven"),
            `Good.payload does not match the job's schema: payload.n: Expected number, got "seven"`
          )
          const huge = reasons.get("huge")!
          assert.match(
            huge,
            /^Good\.payload does not match the job's schema: payload\.n: Expected number, got "x+… \[cut/
          )
          assert.isAtMost(huge.length, 1024)
          const logged = lines.filter((line) => line.includes("huge"))
          assert.isNotEmpty(logged)
          for (const line of logged) assert.isAtMost(line.length, 1200)
        }).pipe(Effect.provide(jobsLayer(handlers)), Effect.provide(recordLogs(lines)))
      })
    )
  })

  describe("middleware", () => {
    const Work = Job.make("Work", { payload: { fail: Schema.Boolean }, error: MailerDown })
    const workHandlers = (log: Array<string>) =>
      JobRegistry.add(
        Work.handle(({ fail }) =>
          Effect.suspend(() => {
            log.push("handler")
            return fail ? Effect.fail(new MailerDown({ message: "down" })) : Effect.void
          })
        )
      )

    it.effect("wraps each run outermost first and sees the job's info", () =>
      Effect.gen(function* () {
        const log: Array<string> = []
        const seen: Array<CurrentJob.JobInfo> = []
        const trace =
          (name: string): Middleware.JobMiddleware =>
          (run, job) =>
            Effect.gen(function* () {
              log.push(`${name}:before`)
              seen.push(job)
              const result = yield* run
              log.push(`${name}:after`)
              return result
            })
        yield* Effect.gen(function* () {
          const { id } = yield* Work.enqueue({ fail: false })
          yield* JobsTest.drain().pipe(provideMiddleware(trace("outer"), trace("inner")))
          assert.deepStrictEqual(log, ["outer:before", "inner:before", "handler", "inner:after", "outer:after"])
          assert.strictEqual(seen[0]?.id, id)
          assert.strictEqual(seen[0]?.name, "Work")
          assert.strictEqual(seen[0]?.queue, "default")
          assert.strictEqual(seen[0]?.attempt, 1)
          assert.strictEqual(seen[0]?.maxRetries, 25)
        }).pipe(Effect.provide(jobsLayer(workHandlers(log))))
      })
    )

    it.effect("can turn a failure into a success", () =>
      Effect.gen(function* () {
        const log: Array<string> = []
        const forgive: Middleware.JobMiddleware = (run) => Effect.catchCause(run, () => Effect.void)
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const { id } = yield* Work.enqueue({ fail: true })
          const result = yield* JobsTest.drain().pipe(provideMiddleware(forgive))
          assert.strictEqual(result.succeeded, 1)
          assert.deepStrictEqual(log, ["handler"])
          assert.isUndefined(yield* get(id))
          assert.deepStrictEqual(tagsFor(yield* take, id), ["Enqueued", "Started", "Succeeded"])
        }).pipe(Effect.provide(jobsLayer(workHandlers(log))))
      })
    )

    it.effect("runs around jobs on a worker too", () =>
      Effect.gen(function* () {
        const log: Array<string> = []
        const tag: Middleware.JobMiddleware = (run, job) =>
          Effect.sync(() => void log.push(`start ${job.name}#${job.attempt}`)).pipe(Effect.andThen(run))
        yield* Effect.gen(function* () {
          yield* Work.enqueue({ fail: false })
          yield* startWorker().pipe(provideMiddleware(tag))
          yield* settle
          assert.deepStrictEqual(log, ["start Work#1", "handler"])
        }).pipe(Effect.provide(jobsLayer(workHandlers(log))))
      })
    )
  })

  it.effect("gives every run the services its handlers' layer captured; the run's own context wins", () =>
    Effect.gen(function* () {
      class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}
      class Region extends Context.Service<Region, string>()("test/Region") {}
      const Greet = Job.make("Greet", { payload: { n: Schema.Number } })
      const heard: Array<string> = []
      const handlers = JobRegistry.add(
        Greet.handle(() =>
          Effect.gen(function* () {
            heard.push(`${yield* Greeting} in ${yield* Region}`)
          })
        )
      ).pipe(Layer.provide(Layer.succeed(Greeting, "from the layer")), Layer.provide(Layer.succeed(Region, "eu")))
      const polite: Middleware.JobMiddleware = (run, job) =>
        job.attempt === 1 && heard.length === 1 ? Effect.provideService(run, Greeting, "from middleware") : run
      yield* Effect.gen(function* () {
        yield* Greet.enqueue({ n: 1 })
        yield* Greet.enqueue({ n: 2 })
        yield* Greet.enqueue({ n: 3 })
        // The worker runs where Region is "us": the worker's context is the run's, so it wins.
        yield* startWorker({ concurrency: 1 }).pipe(provideMiddleware(polite)).pipe(Effect.provideService(Region, "us"))
        yield* settle
        assert.deepStrictEqual(heard, ["from the layer in us", "from middleware in us", "from the layer in us"])
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )

  it.effect(
    "a settlement the store refuses is logged once at warn with the job id, and no event or metric claims it",
    () =>
      Effect.gen(function* () {
        // A store whose leases have all passed to later runs: every settlement is refused.
        const refusing = Layer.effect(
          QueueStore.QueueStore,
          Effect.map(QueueStore.makeMemory(), (memory) =>
            QueueStore.QueueStore.of({
              ...memory,
              ack: () => Effect.succeed(0),
              ackAndClaim: (acks, options) =>
                Effect.map(memory.claim(options), (jobs) => ({ acked: acks.map(() => false), jobs })),
              retry: () => Effect.succeed(false),
              kill: () => Effect.succeed(false)
            })
          )
        )
        const lines: Array<string> = []
        const logger = Logger.layer([
          Logger.make(({ logLevel, message }) => {
            if (logLevel === "Warn") lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
          })
        ])
        yield* Effect.gen(function* () {
          const take = yield* recordEvents
          const fail = yield* Outcome.enqueue({ kind: "fail" })
          const unrecoverable = yield* Outcome.enqueue({ kind: "unrecoverable" })
          const succeed = yield* Outcome.enqueue({ kind: "succeed" })
          yield* JobsTest.drain()
          const events = yield* take
          assert.deepStrictEqual(tagsFor(events, fail.id), ["Enqueued", "Started"])
          assert.deepStrictEqual(tagsFor(events, unrecoverable.id), ["Enqueued", "Started"])
          assert.deepStrictEqual(tagsFor(events, succeed.id), ["Enqueued", "Started"])
          for (const { id } of [fail, unrecoverable, succeed]) {
            const said = lines.filter((line) => line.includes(id))
            assert.strictEqual(said.length, 1, `one line for ${id}: ${JSON.stringify(lines)}`)
            assert.include(said[0], "refused")
          }
        }).pipe(Effect.provide(Layer.merge(jobsLayer(outcomeHandlers, { store: refusing }), logger)))
      })
  )

  it.effect("provides CurrentJob to the handler with its id and attempt", () =>
    Effect.gen(function* () {
      const Flaky = Job.make("Flaky", { payload: {}, error: MailerDown, retry: everyTenSeconds })
      const seen: Array<CurrentJob.JobInfo> = []
      const handlers = JobRegistry.add(
        Flaky.handle(() =>
          Effect.gen(function* () {
            const current = yield* CurrentJob.CurrentJob
            seen.push(current)
            if (current.attempt === 1) return yield* new MailerDown({ message: "first try fails" })
          })
        )
      )
      yield* Effect.gen(function* () {
        const { id } = yield* Flaky.enqueue({})
        yield* JobsTest.drain()
        yield* TestClock.adjust("10 seconds")
        yield* JobsTest.drain()
        assert.deepStrictEqual(
          seen.map((info) => [info.id, info.name, info.attempt, info.maxRetries, info.enqueuedAt]),
          [
            [id, "Flaky", 1, 5, 0],
            [id, "Flaky", 2, 5, 0]
          ]
        )
        assert.isUndefined(yield* get(id))
      }).pipe(Effect.provide(jobsLayer(handlers)))
    })
  )
})
