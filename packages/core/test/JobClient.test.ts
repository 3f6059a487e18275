import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Metric, Option, PubSub, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobClient, JobEvents, JobMetrics, JobRegistry, QueueStore } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number } })

const stored = (id: string) => QueueStore.QueueStore.use((store) => store.get(id)).pipe(Effect.map(Option.getOrThrow))

/** How many jobs the store holds anywhere. */
const storedCount = QueueStore.QueueStore.use((store) => store.stats).pipe(
  Effect.map((stats) => stats.queues.reduce((sum, q) => sum + q.size, 0) + stats.scheduled + stats.retry + stats.dead)
)

/** A memory store that records the size of every `enqueue` call. */
const countingStore = (calls: Array<number>) =>
  Layer.effect(
    QueueStore.QueueStore,
    Effect.map(QueueStore.makeMemory(), (store) =>
      QueueStore.QueueStore.of({
        ...store,
        enqueue: (jobs) =>
          Effect.suspend(() => {
            calls.push(jobs.length)
            return store.enqueue(jobs)
          })
      })
    )
  )

const clientWith = (options: JobClient.ClientOptions, calls: Array<number> = []) =>
  JobClient.layer(options).pipe(Layer.provideMerge(countingStore(calls)))

describe("enqueue timing", () => {
  it.effect("enqueues a job now as ready, due at the store's current time", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const result = yield* SendWelcome.enqueue({ userId: 1 })
      assert.strictEqual(result.outcome, "enqueued")
      const job = yield* stored(result.id)
      assert.strictEqual(job.state, "ready")
      assert.strictEqual(job.queue, "default")
      assert.strictEqual(job.runAt, 3_600_000)
      assert.strictEqual(job.payload, '{"userId":1}')
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("schedules a job `delay` after now from now", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const result = yield* SendWelcome.enqueue({ userId: 1 }, { delay: "5 minutes" })
      assert.strictEqual(result.outcome, "scheduled")
      const job = yield* stored(result.id)
      assert.strictEqual(job.state, "scheduled")
      assert.strictEqual(job.runAt, 3_600_000 + 5 * 60_000)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("schedules a job `at` a Date", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const result = yield* SendWelcome.enqueue({ userId: 1 }, { at: new Date(7_200_000) })
      assert.strictEqual(result.outcome, "scheduled")
      const job = yield* stored(result.id)
      assert.strictEqual(job.state, "scheduled")
      assert.strictEqual(job.runAt, 7_200_000)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("schedules a job `at` any DateTime.Input: a zoned DateTime, an ISO string, epoch millis", () =>
    Effect.gen(function* () {
      const zoned = DateTime.makeZonedUnsafe(7_200_000, { timeZone: "Europe/Paris" })
      const times = [zoned, "1970-01-01T03:00:00.000Z", 14_400_000] as const
      const runAts: Array<number> = []
      for (const at of times) runAts.push((yield* stored((yield* SendWelcome.enqueue({ userId: 1 }, { at })).id)).runAt)
      assert.deepStrictEqual(runAts, [7_200_000, 10_800_000, 14_400_000])
      const error = yield* Effect.flip(SendWelcome.enqueue({ userId: 1 }, { at: "next tuesday" }))
      assert.strictEqual(error._tag, "InvalidEnqueueOptions")
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("schedules a job `at` a DateTime", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const at = DateTime.add(yield* DateTime.now, { minutes: 10 })
      const result = yield* SendWelcome.enqueue({ userId: 1 }, { at })
      assert.strictEqual(result.outcome, "scheduled")
      const job = yield* stored(result.id)
      assert.strictEqual(job.state, "scheduled")
      assert.strictEqual(job.runAt, 3_600_000 + 10 * 60_000)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("makes a job `at` a past time ready at once", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const result = yield* SendWelcome.enqueue({ userId: 1 }, { at: new Date(1_000) })
      assert.strictEqual(result.outcome, "enqueued")
      assert.strictEqual((yield* stored(result.id)).state, "ready")
    }).pipe(Effect.provide(JobsTest.layer))
  )
})

describe("enqueue options", () => {
  it.effect("reports a caller-chosen id that exists as a duplicate and keeps the first payload", () =>
    Effect.gen(function* () {
      const first = yield* SendWelcome.enqueue({ userId: 1 }, { id: "welcome-1" })
      const second = yield* SendWelcome.enqueue({ userId: 2 }, { id: "welcome-1" })
      assert.deepStrictEqual(first, { id: "welcome-1", outcome: "enqueued" })
      assert.deepStrictEqual(second, { id: "welcome-1", outcome: "duplicate" })
      assert.strictEqual((yield* stored("welcome-1")).payload, '{"userId":1}')
      assert.strictEqual(yield* storedCount, 1)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("sends a job to the queue given per call", () =>
    Effect.gen(function* () {
      const result = yield* SendWelcome.enqueue({ userId: 1 }, { queue: "mailers" })
      assert.strictEqual((yield* stored(result.id)).queue, "mailers")
      const store = yield* QueueStore.QueueStore
      assert.strictEqual((yield* store.listQueue("mailers", { offset: 0, limit: 10 })).total, 1)
      assert.strictEqual((yield* store.listQueue("default", { offset: 0, limit: 10 })).total, 0)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  const refusals: ReadonlyArray<readonly [string, Job.EnqueueOptions, string, string]> = [
    ["a malformed queue name", { queue: "mail ers" }, "queue", 'queue name "mail ers"'],
    ["both `delay` and `at`", { delay: "1 minute", at: new Date(0) }, "delay/at", "not both"],
    ["a negative `delay`", { delay: -5 }, "delay", "must not be negative"],
    ["an infinite `delay`", { delay: Infinity }, "delay", "not a finite duration"],
    ["a NaN `delay`", { delay: Number.NaN }, "delay", "not a finite duration"],
    [
      "an unreadable `delay`",
      { delay: "soon" as Job.EnqueueOptions["delay"] },
      "delay",
      "soon is not a finite duration"
    ],
    ["an invalid `at`", { at: new Date(Number.NaN) }, "at", "not a valid time"],
    [
      "an `at` after 2200",
      { at: new Date(Date.UTC(2300, 0, 1)) },
      "at",
      "run time 2300-01-01T00:00:00.000Z is after 2200-01-01T00:00:00.000Z, the latest time a store keeps exactly"
    ],
    ["a `delay` over 100 years", { delay: 3_155_760_000_001 }, "delay", "(100 years)"],
    ["an empty id", { id: "" }, "id", "1-200 characters"]
  ]
  for (const [label, options, option, problem] of refusals) {
    it.effect(`refuses ${label} with InvalidEnqueueOptions naming the option, writing nothing`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(SendWelcome.enqueue({ userId: 1 }, options))
        assert.strictEqual(error._tag, "InvalidEnqueueOptions")
        if (error._tag !== "InvalidEnqueueOptions") return
        assert.strictEqual(error.option, option)
        assert.include(error.message, `SendWelcome enqueue option ${option}:`)
        assert.include(error.message, problem)
        assert.strictEqual(yield* storedCount, 0)
      }).pipe(Effect.provide(JobsTest.layer))
    )
  }
})

const Nested = Job.make("SendWelcome", {
  payload: {
    userId: Schema.Number,
    to: Schema.Struct({ name: Schema.String, emails: Schema.Array(Schema.String) })
  }
})

describe("payload validation", () => {
  it.effect("refuses a payload that fails its schema with the field path in the message", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(SendWelcome.enqueue({ userId: "x" } as never))
      assert.strictEqual(error._tag, "InvalidPayload")
      assert.strictEqual(error.message, 'SendWelcome.payload.userId: Expected number, got "x"')
      assert.strictEqual(yield* storedCount, 0)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("reports every issue, with nested paths and array indexes", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Nested.enqueue({ userId: "x", to: { name: 7, emails: ["a@example.com", 2, "c@example.com", false] } } as never)
      )
      assert.strictEqual(error._tag, "InvalidPayload")
      if (error._tag !== "InvalidPayload") return
      assert.deepStrictEqual(
        error.issues.map((issue) => issue.path),
        [
          "SendWelcome.payload.userId",
          "SendWelcome.payload.to.name",
          "SendWelcome.payload.to.emails[1]",
          "SendWelcome.payload.to.emails[3]"
        ]
      )
      assert.include(error.message, "SendWelcome.payload.to.emails[1]: Expected string, got 2")
      assert.include(error.message, "SendWelcome.payload.to.emails[3]: Expected string, got false")
      assert.strictEqual(yield* storedCount, 0)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  const circular: Record<string, unknown> = { a: 1 }
  circular.self = circular
  class Point {
    x = 1
  }
  // [label, value, path under Schema.Unknown, path under Schema.Any]
  const nonJson: ReadonlyArray<readonly [string, unknown, string, string]> = [
    ["a Date", new Date(0), "data", "data"],
    ["a bigint", 1n, "data", "data"],
    ["a function", () => 1, "data", "data"],
    ["a Map", new Map([["a", 1]]), "data", "data"],
    ["undefined inside an array", [1, undefined], "data", "data[1]"],
    ["NaN", Number.NaN, "data", "data"],
    ["Infinity", Number.POSITIVE_INFINITY, "data", "data"],
    ["a class instance", new Point(), "data", "data"],
    ["a circular object", circular, "data", "data.self"]
  ]
  for (const [schemaName, schema] of [
    ["Schema.Unknown", Schema.Unknown],
    ["Schema.Any", Schema.Any]
  ] as const) {
    const Loose = Job.make("SendWelcome", { payload: { data: schema } })
    for (const [label, value, unknownPath, anyPath] of nonJson) {
      const path = `SendWelcome.payload.${schemaName === "Schema.Unknown" ? unknownPath : anyPath}`
      it.effect(`refuses ${label} in a ${schemaName} field, naming ${path}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Loose.enqueue({ data: value }))
          assert.strictEqual(error._tag, "InvalidPayload")
          if (error._tag !== "InvalidPayload") return
          assert.strictEqual(error.issues[0]!.path, path)
          assert.include(error.message, `${path}: `)
          assert.strictEqual(yield* storedCount, 0)
        }).pipe(Effect.provide(JobsTest.layer))
      )
    }
    it.effect(`accepts plain JSON in a ${schemaName} field`, () =>
      Effect.gen(function* () {
        const result = yield* Loose.enqueue({ data: { a: [1, "two", null, true], b: { c: 1.5 } } })
        assert.strictEqual((yield* stored(result.id)).payload, '{"data":{"a":[1,"two",null,true],"b":{"c":1.5}}}')
      }).pipe(Effect.provide(JobsTest.layer))
    )
  }

  it.effect("accepts a Date in a Schema.Date field and hands the worker a Date back", () => {
    const Remind = Job.make("Remind", { payload: { at: Schema.Date } })
    const seen: Array<Date> = []
    const handlers = JobRegistry.add(Remind.handle(({ at }) => Effect.sync(() => void seen.push(at))))
    return Effect.gen(function* () {
      const result = yield* Remind.enqueue({ at: new Date(86_400_000) })
      assert.strictEqual((yield* stored(result.id)).payload, '{"at":"1970-01-02T00:00:00.000Z"}')
      yield* JobsTest.drain()
      assert.strictEqual(seen.length, 1)
      assert.instanceOf(seen[0], Date)
      assert.strictEqual(seen[0]!.getTime(), 86_400_000)
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
  })

  it.effect("accepts a DateTime in a Schema.DateTimeUtc field and hands the worker a DateTime back", () => {
    const Remind = Job.make("Remind", { payload: { at: Schema.DateTimeUtc } })
    const seen: Array<DateTime.Utc> = []
    const handlers = JobRegistry.add(Remind.handle(({ at }) => Effect.sync(() => void seen.push(at))))
    return Effect.gen(function* () {
      yield* Remind.enqueue({ at: DateTime.makeUnsafe(86_400_000) })
      yield* JobsTest.drain()
      assert.strictEqual(seen.length, 1)
      assert.isTrue(DateTime.isDateTime(seen[0]))
      assert.strictEqual(DateTime.toEpochMillis(seen[0]!), 86_400_000)
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
  })
})

describe("payload size", () => {
  const Note = Job.make("Note", { payload: { text: Schema.String } })
  // `{"text":""}` around the string
  const envelope = 11

  it.effect("refuses a payload over the default 512 KiB with PayloadTooLarge naming bytes and limit", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Note.enqueue({ text: "a".repeat(600 * 1024) }))
      assert.strictEqual(error._tag, "PayloadTooLarge")
      if (error._tag !== "PayloadTooLarge") return
      assert.strictEqual(error.bytes, 600 * 1024 + envelope)
      assert.strictEqual(error.maxBytes, 512 * 1024)
      assert.include(error.message, `Note.payload is ${600 * 1024 + envelope} bytes`)
      assert.include(error.message, `limit of ${512 * 1024}`)
      assert.strictEqual(yield* storedCount, 0)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("accepts a 400 KiB payload under the default limit", () =>
    Effect.gen(function* () {
      const result = yield* Note.enqueue({ text: "a".repeat(400 * 1024) })
      assert.strictEqual(result.outcome, "enqueued")
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("applies a lower maxPayloadBytes from the client layer", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* Note.enqueue({ text: "a".repeat(1024 - envelope) })).outcome, "enqueued")
      const error = yield* Effect.flip(Note.enqueue({ text: "a".repeat(1024 - envelope + 1) }))
      assert.strictEqual(error._tag, "PayloadTooLarge")
      if (error._tag !== "PayloadTooLarge") return
      assert.strictEqual(error.bytes, 1025)
      assert.strictEqual(error.maxBytes, 1024)
    }).pipe(Effect.provide(clientWith({ maxPayloadBytes: 1024 })))
  )

  it.effect("counts multi-byte UTF-8 characters in bytes", () =>
    Effect.gen(function* () {
      // 600 characters, 1,200 bytes: over 1 KiB though shorter than 1,024 characters
      const accented = yield* Effect.flip(Note.enqueue({ text: "é".repeat(600) }))
      assert.strictEqual(accented._tag, "PayloadTooLarge")
      if (accented._tag === "PayloadTooLarge") assert.strictEqual(accented.bytes, 1200 + envelope)
      // an emoji is two UTF-16 units but four bytes, not six
      assert.strictEqual((yield* Note.enqueue({ text: "😀".repeat(250) })).outcome, "enqueued")
      const emoji = yield* Effect.flip(Note.enqueue({ text: "😀".repeat(254) }))
      assert.strictEqual(emoji._tag, "PayloadTooLarge")
      if (emoji._tag === "PayloadTooLarge") assert.strictEqual(emoji.bytes, 1016 + envelope)
    }).pipe(Effect.provide(clientWith({ maxPayloadBytes: 1024 })))
  )
})

describe("enqueueMany", () => {
  it.effect("writes 2,500 jobs in chunks of 1,000, one store call each", () => {
    const calls: Array<number> = []
    return Effect.gen(function* () {
      const payloads = Array.from({ length: 2500 }, (_, i) => ({ userId: i }))
      const results = yield* SendWelcome.enqueueMany(payloads)
      assert.deepStrictEqual(calls, [1000, 1000, 500])
      assert.strictEqual(results.length, 2500)
      assert.isTrue(results.every((result) => result.outcome === "enqueued"))
      assert.strictEqual(new Set(results.map((result) => result.id)).size, 2500)
      assert.strictEqual((yield* stored(results[1700]!.id)).payload, '{"userId":1700}')
      assert.strictEqual(yield* storedCount, 2500)
    }).pipe(Effect.provide(clientWith({}, calls)))
  })

  it.effect("generates short random ids: 22 base64url characters, never starting with '-'", () =>
    Effect.gen(function* () {
      const results = yield* SendWelcome.enqueueMany(Array.from({ length: 20_000 }, (_, i) => ({ userId: i })))
      const ids = results.map((result) => result.id)
      assert.strictEqual(new Set(ids).size, ids.length)
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
      // Every character of the alphabet shows up at every position but the first (no '-' there).
      for (const at of [0, 1, 11, 21]) {
        assert.strictEqual(new Set(ids.map((id) => id[at])).size, at === 0 ? 63 : 64)
      }
      const single = yield* SendWelcome.enqueue({ userId: 1 })
      assert.match(single.id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
    }).pipe(Effect.provide(JobsTest.layer))
  )

  it.effect("encodes through schema transformations and names the index of a non-JSON value in a batch", () => {
    const Stamped = Job.make("Stamped", { payload: { at: Schema.Date, extra: Schema.Any } })
    return Effect.gen(function* () {
      const [ok] = yield* Stamped.enqueueMany([{ at: new Date(0), extra: { a: [1, "b", null, true] } }])
      assert.strictEqual(
        (yield* stored(ok!.id)).payload,
        '{"at":"1970-01-01T00:00:00.000Z","extra":{"a":[1,"b",null,true]}}'
      )
      const error = yield* Effect.flip(
        Stamped.enqueueMany([
          { at: new Date(0), extra: 1 },
          { at: new Date(0), extra: { when: new Date(0) } }
        ])
      )
      assert.strictEqual(error._tag, "InvalidPayload")
      assert.include(error.message, "Stamped[1].payload.extra.when: a Date is not JSON")
      assert.strictEqual(yield* storedCount, 1)
    }).pipe(Effect.provide(JobsTest.layer))
  })

  it.effect("uses the chunkSize of the client layer", () => {
    const calls: Array<number> = []
    return Effect.gen(function* () {
      yield* SendWelcome.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ userId: i })))
      assert.deepStrictEqual(calls, [2, 2, 1])
    }).pipe(Effect.provide(clientWith({ chunkSize: 2 }, calls)))
  })

  it.effect("validates every payload before writing any", () => {
    const calls: Array<number> = []
    return Effect.gen(function* () {
      const payloads: Array<{ userId: number }> = Array.from({ length: 2500 }, (_, i) => ({ userId: i }))
      payloads[1700] = { userId: "x" } as never
      const error = yield* Effect.flip(SendWelcome.enqueueMany(payloads))
      assert.strictEqual(error._tag, "InvalidPayload")
      assert.strictEqual(error.message, 'SendWelcome[1700].payload.userId: Expected number, got "x"')
      assert.deepStrictEqual(calls, [])
      assert.strictEqual(yield* storedCount, 0)
    }).pipe(Effect.provide(clientWith({}, calls)))
  })

  it.effect("applies the options to every job", () =>
    Effect.gen(function* () {
      const results = yield* SendWelcome.enqueueMany([{ userId: 1 }, { userId: 2 }], {
        delay: "1 minute",
        queue: "mailers"
      })
      for (const result of results) {
        assert.strictEqual(result.outcome, "scheduled")
        const job = yield* stored(result.id)
        assert.strictEqual(job.queue, "mailers")
        assert.strictEqual(job.runAt, 60_000)
      }
    }).pipe(Effect.provide(JobsTest.layer))
  )
})

describe("events and metrics", () => {
  it.effect("publishes an Enqueued event per job when JobEvents is provided", () =>
    Effect.gen(function* () {
      const events = yield* JobEvents.JobEvents
      const subscription = yield* events.subscribe
      yield* SendWelcome.enqueue({ userId: 1 }, { id: "a" })
      yield* SendWelcome.enqueue({ userId: 1 }, { id: "b", delay: "1 minute", queue: "mailers" })
      yield* SendWelcome.enqueue({ userId: 2 }, { id: "a" })
      const [many] = yield* SendWelcome.enqueueMany([{ userId: 3 }])
      const published = yield* PubSub.takeAll(subscription)
      assert.deepStrictEqual(
        published.map((event) => (event._tag === "Enqueued" ? [event.id, event.queue, event.outcome] : event._tag)),
        [
          ["a", "default", "enqueued"],
          ["b", "mailers", "scheduled"],
          ["a", "default", "duplicate"],
          [many!.id, "default", "enqueued"]
        ]
      )
      assert.isTrue(published.every((event) => event.name === "SendWelcome"))
    }).pipe(Effect.scoped, Effect.provide(JobsTest.layer))
  )

  it.effect("counts enqueued jobs per job and queue, leaving out duplicates", () =>
    Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1 }, { id: "a" })
      yield* SendWelcome.enqueue({ userId: 1 }, { id: "a" })
      yield* SendWelcome.enqueue({ userId: 2 })
      yield* SendWelcome.enqueueMany([{ userId: 3 }, { userId: 4 }, { userId: 5 }], { queue: "bulk" })
      const count = (queue: string) =>
        Metric.value(Metric.withAttributes(JobMetrics.enqueued, { job: "SendWelcome", queue })).pipe(
          Effect.map((state) => state.count)
        )
      assert.strictEqual(yield* count("default"), 2)
      assert.strictEqual(yield* count("bulk"), 3)
    }).pipe(Effect.provide(JobsTest.layer), Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})
