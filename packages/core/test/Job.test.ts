import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { expectTypeOf } from "vitest"
import { Job, JobClient, JobRegistry, MemoryBackend, RetryPolicy, JobWorker } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number } })

class User extends Schema.Class<User>("User")({ id: Schema.Number, email: Schema.String }) {
  get domain(): string {
    return this.email.split("@")[1]!
  }
}

const throwsWith = (define: () => unknown, ...fragments: ReadonlyArray<string>) => {
  let message: string | undefined
  try {
    define()
  } catch (error) {
    message = (error as Error).message
  }
  assert.isDefined(message, "expected Job.make to throw")
  for (const fragment of fragments) assert.include(message, fragment)
}

describe("Job.make", () => {
  it("builds a struct payload from fields, with the default queue, retries and no timeout", () => {
    assert.strictEqual(SendWelcome.name, "SendWelcome")
    assert.strictEqual(SendWelcome.queue, "default")
    assert.strictEqual(SendWelcome.retry.maxRetries, 25)
    assert.isUndefined(SendWelcome.timeout)
    assert.isTrue(Job.isJob(SendWelcome))
    assert.deepStrictEqual(Schema.decodeUnknownSync(SendWelcome.payloadSchema)({ userId: 7 }), { userId: 7 })
    assert.throws(() => Schema.decodeUnknownSync(SendWelcome.payloadSchema)({ userId: "7" }))
  })

  it("reads queue, retry and timeout options", () => {
    const Report = Job.make("Report", { payload: {}, queue: "reports", retry: 5, timeout: "30 seconds" })
    assert.strictEqual(Report.queue, "reports")
    assert.strictEqual(Report.retry.maxRetries, 5)
    assert.isTrue(Duration.equals(Report.timeout!, Duration.seconds(30)))
    assert.strictEqual(Job.make("NoRetry", { payload: {}, retry: false }).retry.maxRetries, 0)
    const policy = RetryPolicy.exponential({ maxRetries: 3 })
    assert.strictEqual(Job.make("Custom", { payload: {}, retry: policy }).retry, policy)
  })

  it.effect("accepts a full Schema.Struct as payload", () =>
    Effect.gen(function* () {
      const Notify = Job.make("Notify", {
        payload: Schema.Struct({ to: Schema.String, tags: Schema.Array(Schema.String) })
      })
      const seen: Array<unknown> = []
      yield* Notify.enqueue({ to: "ann@example.com", tags: ["a", "b"] })
      yield* JobsTest.drain().pipe(
        Effect.provide(JobRegistry.add(Notify.handle((payload) => Effect.sync(() => void seen.push(payload)))))
      )
      assert.deepStrictEqual(seen, [{ to: "ann@example.com", tags: ["a", "b"] }])
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("accepts a Schema.Class payload and hands the handler an instance", () =>
    Effect.gen(function* () {
      const Greet = Job.make("Greet", { payload: User })
      const seen: Array<User> = []
      yield* Greet.enqueue(new User({ id: 1, email: "ann@example.com" }))
      yield* JobsTest.drain().pipe(
        Effect.provide(JobRegistry.add(Greet.handle((user) => Effect.sync(() => void seen.push(user)))))
      )
      assert.strictEqual(seen.length, 1)
      assert.instanceOf(seen[0], User)
      assert.strictEqual(seen[0]!.domain, "example.com")
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it("throws at definition time on a malformed name", () => {
    throwsWith(() => Job.make("send welcome", { payload: {} }), "name", '"send welcome"')
    throwsWith(() => Job.make("", { payload: {} }), "name", '""')
    throwsWith(() => Job.make("1st", { payload: {} }), "name", '"1st"', "must start with a letter")
  })

  it("throws at definition time on a malformed queue name", () => {
    throwsWith(
      () => Job.make("SendWelcome", { payload: {}, queue: "mail ers" }),
      "SendWelcome",
      'queue name "mail ers"'
    )
    throwsWith(() => Job.make("SendWelcome", { payload: {}, queue: "" }), "SendWelcome", 'queue name ""')
  })

  it("throws at definition time on a negative or fractional retry count", () => {
    throwsWith(() => Job.make("SendWelcome", { payload: {}, retry: -1 }), "Job.make(SendWelcome): retry", "got -1")
    throwsWith(() => Job.make("SendWelcome", { payload: {}, retry: 1.5 }), "retry", "got 1.5")
  })

  it("throws at definition time on a timeout that is not positive or not a duration", () => {
    throwsWith(() => Job.make("SendWelcome", { payload: {}, timeout: 0 }), "SendWelcome", "timeout must be positive")
    throwsWith(
      () => Job.make("SendWelcome", { payload: {}, timeout: "-5 seconds" as Duration.Input }),
      "SendWelcome",
      "timeout must be positive"
    )
    throwsWith(
      () => Job.make("SendWelcome", { payload: {}, timeout: "soon" as Duration.Input }),
      "SendWelcome",
      "timeout soon is not a duration"
    )
  })
})

class Mailer extends Context.Service<Mailer, { readonly send: (userId: number) => Effect.Effect<void> }>()(
  "test/Mailer"
) {}

describe("typing", () => {
  it.effect("a handler's services become requirements of the registry layer and the worker", () =>
    Effect.gen(function* () {
      const handlers = JobRegistry.add(SendWelcome.handle(({ userId }) => Mailer.use((mailer) => mailer.send(userId))))
      expectTypeOf(handlers).toEqualTypeOf<Layer.Layer<JobRegistry.JobRegistry, never, Mailer>>()

      const stores = MemoryBackend.layer()
      const worker = JobWorker.layer({ concurrency: 1 }).pipe(Layer.provide(handlers), Layer.provideMerge(stores))
      // @ts-expect-error the worker cannot be built without a Mailer
      const missingMailer: Layer.Layer<JobWorker.JobWorker, unknown, never> = worker
      void missingMailer

      const sent: Array<number> = []
      const mailer = Layer.succeed(Mailer, Mailer.of({ send: (userId) => Effect.sync(() => void sent.push(userId)) }))
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(worker.pipe(Layer.provide(mailer)))
          yield* SendWelcome.enqueue({ userId: 42 })
          yield* TestClock.adjust("1 second")
        })
      ).pipe(Effect.provide(JobClient.layer().pipe(Layer.provide(stores))))
      assert.deepStrictEqual(sent, [42])
    })
  )

  it.effect("enqueue refuses a payload of the wrong type at compile time and at run time", () =>
    Effect.gen(function* () {
      // @ts-expect-error userId must be a number
      const error = yield* Effect.flip(SendWelcome.enqueue({ userId: "42" }))
      assert.strictEqual(error._tag, "InvalidPayload")
      // @ts-expect-error the payload lacks userId
      const missing = yield* Effect.flip(SendWelcome.enqueue({}))
      assert.strictEqual(missing.message, "SendWelcome.payload.userId: Missing key")
    }).pipe(Effect.provide(JobsTest.layer))
  )
})

class MailBounced extends Schema.TaggedError<MailBounced>()("MailBounced", { userId: Schema.Number }) {}

describe("generator handlers", () => {
  const Remind = Job.make("Remind", {
    payload: { userId: Schema.Number },
    success: Schema.String,
    error: MailBounced,
    retry: RetryPolicy.exponential({ maxRetries: 1, base: "1 second", jitter: 0 })
  })

  it.effect(
    "a generator function is a handler: it runs afresh each attempt, and what it yields sets its services",
    () =>
      Effect.gen(function* () {
        const attempts: Array<{ userId: number; attempt: number }> = []
        const sent: Array<number> = []
        const handler = Remind.handle(function* ({ userId }, job) {
          attempts.push({ userId, attempt: job.attempt })
          if (job.attempt === 1) return yield* new MailBounced({ userId })
          const mailer = yield* Mailer
          yield* mailer.send(userId)
          return `reminded ${userId}`
        })
        const handlers = JobRegistry.add(handler)
        expectTypeOf(handlers).toEqualTypeOf<Layer.Layer<JobRegistry.JobRegistry, never, Mailer>>()

        const mailer = Layer.succeed(Mailer, Mailer.of({ send: (userId) => Effect.sync(() => void sent.push(userId)) }))
        yield* Remind.enqueue({ userId: 7 })
        yield* JobsTest.drain().pipe(Effect.provide(handlers.pipe(Layer.provide(mailer))))
        assert.deepStrictEqual(sent, [])
        assert.strictEqual((yield* JobsTest.retries).length, 1)
        yield* TestClock.adjust("1 second")
        yield* JobsTest.drain().pipe(Effect.provide(handlers.pipe(Layer.provide(mailer))))
        assert.deepStrictEqual(attempts, [
          { userId: 7, attempt: 1 },
          { userId: 7, attempt: 2 }
        ])
        assert.deepStrictEqual(sent, [7])
        assert.strictEqual((yield* JobsTest.retries).length, 0)
      }).pipe(Effect.provide(JobsTest.layer))
  )
})

// Type test (checked by `npm run check`, never run): a generator handler must fail only with
// the job's declared errors and return its success type.
export const generatorHandlersAreTyped = () => {
  class Unexpected extends Schema.TaggedError<Unexpected>()("Unexpected", {}) {}
  // @ts-expect-error Unexpected is not among Remind's errors
  Remind.handle(function* () {
    yield* new Unexpected()
    return "done"
  })
  // @ts-expect-error Remind succeeds with a string
  Remind.handle(function* () {
    yield* Effect.void
    return 42
  })
}
