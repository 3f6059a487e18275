import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobRegistry, RetryPolicy } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

class MailerDown extends Schema.TaggedError<MailerDown>()("MailerDown", { message: Schema.String }) {}

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number, signedUpAt: Schema.Date } })
const SignUp = Job.make("SignUp", { payload: { userId: Schema.Number } })
const Flaky = Job.make("Flaky", {
  payload: { n: Schema.Number },
  error: MailerDown,
  // 10 s, then 20 s, without jitter, so the test knows when each retry is due
  retry: RetryPolicy.exponential({ maxRetries: 2, base: "10 seconds", jitter: 0 })
})

const makeHandlers = () => {
  const welcomed: Array<number> = []
  const flakyRuns: Array<number> = []
  const layer = JobRegistry.add(
    SendWelcome.handle(({ userId }) => Effect.sync(() => void welcomed.push(userId))),
    // a job that enqueues another job
    SignUp.handle(({ userId }) =>
      SendWelcome.enqueue({ userId, signedUpAt: new Date(0) }).pipe(Effect.asVoid, Effect.orDie)
    ),
    Flaky.handle(({ n }, job) =>
      Effect.suspend(() => {
        flakyRuns.push(job.attempt)
        return Effect.fail(new MailerDown({ message: `mailer down for ${n}` }))
      })
    )
  )
  return { welcomed, flakyRuns, layer }
}

describe("fake mode", () => {
  it.effect("lists enqueued jobs of a definition with decoded payloads and does not run them", () => {
    const { welcomed, layer } = makeHandlers()
    return Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1, signedUpAt: new Date(1_000) })
      yield* SendWelcome.enqueue({ userId: 2, signedUpAt: new Date(2_000) }, { delay: "1 hour", queue: "mailers" })
      yield* SignUp.enqueue({ userId: 3 })
      const jobs = yield* JobsTest.enqueued(SendWelcome)
      assert.deepStrictEqual(
        jobs.map((job) => [job.payload.userId, job.queue, job.state, job.runAt]),
        [
          [1, "default", "ready", 0],
          [2, "mailers", "scheduled", 3_600_000]
        ]
      )
      assert.instanceOf(jobs[0]!.payload.signedUpAt, Date)
      assert.strictEqual(jobs[0]!.payload.signedUpAt.getTime(), 1_000)
      assert.deepStrictEqual(
        (yield* JobsTest.enqueued(SignUp)).map((job) => job.payload),
        [{ userId: 3 }]
      )
      assert.deepStrictEqual(welcomed, [])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer })))
  })

  it.effect("drain runs due jobs inline, including jobs enqueued by jobs", () => {
    const { welcomed, layer } = makeHandlers()
    return Effect.gen(function* () {
      yield* SignUp.enqueue({ userId: 1 })
      yield* SignUp.enqueue({ userId: 2 })
      const result = yield* JobsTest.drain()
      assert.deepStrictEqual(welcomed, [1, 2])
      assert.strictEqual(result.succeeded, 4)
      assert.strictEqual(result.ran.length, 4)
      assert.deepStrictEqual(yield* JobsTest.enqueued(SignUp), [])
      assert.deepStrictEqual(yield* JobsTest.enqueued(SendWelcome), [])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer })))
  })

  it.effect("runs scheduled jobs only once the clock reaches them", () => {
    const { welcomed, layer } = makeHandlers()
    return Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1, signedUpAt: new Date(0) }, { delay: "5 minutes" })
      assert.strictEqual((yield* JobsTest.drain()).ran.length, 0)
      yield* TestClock.adjust("4 minutes")
      yield* JobsTest.drain()
      assert.deepStrictEqual(welcomed, [])
      assert.strictEqual((yield* JobsTest.scheduled).length, 1)
      yield* TestClock.adjust("1 minute")
      yield* JobsTest.drain()
      assert.deepStrictEqual(welcomed, [1])
      assert.strictEqual((yield* JobsTest.scheduled).length, 0)
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer })))
  })

  it.effect("puts a failing job in retries, then in dead once its retries are spent", () => {
    const { flakyRuns, layer } = makeHandlers()
    return Effect.gen(function* () {
      const { id } = yield* Flaky.enqueue({ n: 7 })

      assert.strictEqual((yield* JobsTest.drain()).retried, 1)
      const [waiting] = yield* JobsTest.retries
      assert.strictEqual(waiting?.id, id)
      assert.strictEqual(waiting?.runAt, 10_000)
      assert.strictEqual(waiting?.errors[0]?.tag, "MailerDown")
      assert.strictEqual(waiting?.errors[0]?.message, "mailer down for 7")

      // not due yet: nothing runs
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* JobsTest.drain()).ran.length, 0)

      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* JobsTest.drain()).retried, 1)
      assert.strictEqual((yield* JobsTest.retries)[0]?.runAt, 30_000)

      yield* TestClock.adjust("20 seconds")
      assert.strictEqual((yield* JobsTest.drain()).dead, 1)
      assert.deepStrictEqual(yield* JobsTest.retries, [])
      const [dead] = yield* JobsTest.dead
      assert.strictEqual(dead?.id, id)
      assert.strictEqual(dead?.errors.length, 3)
      assert.include(dead?.deadReason, "retries exhausted after 3 attempts")
      assert.deepStrictEqual(flakyRuns, [1, 2, 3])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer })))
  })

  it.effect("stops a job that keeps enqueueing itself after maxJobs", () => {
    const Loop = Job.make("Loop", { payload: {} })
    const layer = JobRegistry.add(Loop.handle(() => Loop.enqueue({}).pipe(Effect.asVoid, Effect.orDie)))
    return Effect.gen(function* () {
      yield* Loop.enqueue({})
      const result = yield* JobsTest.drain({ maxJobs: 5 })
      assert.strictEqual(result.ran.length, 5)
      assert.strictEqual((yield* JobsTest.enqueued(Loop)).length, 1)
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer })))
  })
})

describe("inline mode", () => {
  it.effect("runs a job before enqueue returns", () => {
    const welcomed: Array<number> = []
    const handlers = JobRegistry.add(SendWelcome.handle(({ userId }) => Effect.sync(() => void welcomed.push(userId))))
    return Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1, signedUpAt: new Date(0) })
      assert.deepStrictEqual(welcomed, [1])
      assert.deepStrictEqual(yield* JobsTest.enqueued(SendWelcome), [])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers, inline: true })))
  })

  it.effect("runs the jobs a job enqueues before enqueue returns", () => {
    const { welcomed, layer } = makeHandlers()
    return Effect.gen(function* () {
      yield* SignUp.enqueue({ userId: 1 })
      assert.deepStrictEqual(welcomed, [1])
      assert.deepStrictEqual(yield* JobsTest.enqueued(SendWelcome), [])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer, inline: true })))
  })

  it.effect("leaves scheduled jobs for a later drain once the clock reaches them", () => {
    const { welcomed, layer } = makeHandlers()
    return Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1, signedUpAt: new Date(0) }, { delay: "1 minute" })
      assert.deepStrictEqual(welcomed, [])
      yield* TestClock.adjust("1 minute")
      yield* JobsTest.drain()
      assert.deepStrictEqual(welcomed, [1])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: layer, inline: true })))
  })
})
