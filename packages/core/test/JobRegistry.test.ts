import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Job, JobClient, JobRegistry, JobWorker, MemoryBackend, Middleware } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number } })
const ImportRow = Job.make("ImportRow", { payload: { row: Schema.Number } })
const ChargeCard = Job.make("ChargeCard", { payload: { cents: Schema.Number } })

/** A service two registration layers are each given their own implementation of. */
class Greeting extends Context.Service<Greeting, { readonly word: string }>()("test/Greeting") {}

/** Three registration layers, each from its own "module", in the three forms a handler takes. */
const threeModules = (ran: Array<string>) =>
  [
    SendWelcome.toLayer(({ userId }) => Effect.sync(() => void ran.push(`SendWelcome ${userId}`))),
    ImportRow.toLayer(function* ({ row }) {
      yield* Effect.sync(() => void ran.push(`ImportRow ${row}`))
    }),
    JobRegistry.add(ChargeCard.handle(({ cents }) => Effect.sync(() => void ran.push(`ChargeCard ${cents}`))))
  ] as const

const enqueueOneOfEach = Effect.gen(function* () {
  yield* SendWelcome.enqueue({ userId: 1 })
  yield* ImportRow.enqueue({ row: 2 })
  yield* ChargeCard.enqueue({ cents: 3 })
})

describe("JobRegistry", () => {
  it.effect("a worker runs the handlers of three merged registration layers", () =>
    Effect.gen(function* () {
      const ran: Array<string> = []
      const handlers = Layer.mergeAll(...threeModules(ran))
      const stores = MemoryBackend.layer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(JobWorker.layer({ concurrency: 3 }).pipe(Layer.provide(handlers)))
          yield* enqueueOneOfEach
          for (let i = 0; i < 100 && ran.length < 3; i++) yield* TestClock.adjust("10 millis")
          assert.lengthOf(yield* JobsTest.dead, 0)
        }).pipe(Effect.provide(Layer.merge(JobClient.layer(), stores).pipe(Layer.provideMerge(stores))))
      )
      assert.sameMembers(ran, ["SendWelcome 1", "ImportRow 2", "ChargeCard 3"])
    })
  )

  it.effect("the test kit runs the handlers of three merged registration layers", () => {
    const ran: Array<string> = []
    return Effect.gen(function* () {
      yield* enqueueOneOfEach
      const result = yield* JobsTest.drain()
      assert.strictEqual(result.succeeded, 3)
      assert.deepStrictEqual(ran, ["SendWelcome 1", "ImportRow 2", "ChargeCard 3"])
      assert.sameMembers([...(yield* JobRegistry.names)], ["SendWelcome", "ImportRow", "ChargeCard"])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers: Layer.mergeAll(...threeModules(ran)) })))
  })

  it.effect("each registration layer keeps the services it was built with", () => {
    const said: Array<string> = []
    const say = (name: string) => Greeting.use(({ word }) => Effect.sync(() => void said.push(`${name}: ${word}`)))
    const handlers = Layer.mergeAll(
      SendWelcome.toLayer(() => say("SendWelcome")).pipe(Layer.provide(Layer.succeed(Greeting, { word: "hello" }))),
      ImportRow.toLayer(() => say("ImportRow")).pipe(Layer.provide(Layer.succeed(Greeting, { word: "bonjour" })))
    )
    return Effect.gen(function* () {
      yield* SendWelcome.enqueue({ userId: 1 })
      yield* ImportRow.enqueue({ row: 2 })
      yield* JobsTest.drain()
      assert.deepStrictEqual(said, ["SendWelcome: hello", "ImportRow: bonjour"])
    }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
  })

  it.effect("a worker given two handlers of one job refuses to start, naming the job", () =>
    Effect.gen(function* () {
      const handlers = Layer.mergeAll(
        SendWelcome.toLayer(() => Effect.void),
        SendWelcome.toLayer(() => Effect.log("the other one"))
      )
      const exit = yield* Effect.scoped(
        Layer.build(JobWorker.layer().pipe(Layer.provide(handlers), Layer.provide(MemoryBackend.layer())))
      ).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.toString() : ""
      assert.include(error, "two handlers are registered for SendWelcome")
    })
  )

  it.effect("one registration given two handlers of one job fails to build", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.scoped(
        Layer.build(
          JobRegistry.add(
            SendWelcome.handle(() => Effect.void),
            SendWelcome.handle(() => Effect.void)
          )
        )
      ).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.effect("a middleware layer needing a service wraps the runs of the test kit and of a worker alike", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const Tenant = Greeting
      const tagged = Middleware.layer((run, job) =>
        Tenant.use(({ word }) => Effect.sync(() => void log.push(`${word} ${job.name}`))).pipe(Effect.andThen(run))
      )
      expectTypeOf(tagged).toEqualTypeOf<Layer.Layer<never, never, Greeting>>()
      const handlers = Layer.mergeAll(
        SendWelcome.toLayer(() => Effect.sync(() => void log.push("handler"))),
        tagged.pipe(Layer.provide(Layer.succeed(Tenant, { word: "acme" })))
      )
      yield* Effect.gen(function* () {
        yield* SendWelcome.enqueue({ userId: 1 })
        yield* JobsTest.drain()
      }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
      assert.deepStrictEqual(log, ["acme SendWelcome", "handler"])
      log.length = 0
      const stores = MemoryBackend.layer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(JobWorker.layer({ concurrency: 1 }).pipe(Layer.provide(handlers)))
          yield* SendWelcome.enqueue({ userId: 2 })
          for (let i = 0; i < 100 && log.length < 2; i++) yield* TestClock.adjust("10 millis")
        }).pipe(Effect.provide(Layer.merge(JobClient.layer(), stores).pipe(Layer.provideMerge(stores))))
      )
      assert.deepStrictEqual(log, ["acme SendWelcome", "handler"])
    })
  )

  it.effect("middleware reads a job's annotations, given to Job.make or added with annotate", () =>
    Effect.gen(function* () {
      class Priority extends Context.Service<Priority, number>()("test/Priority") {}
      const Plain = Job.make("Plain", { payload: {} })
      const Urgent = Job.make("Urgent", { payload: {}, annotations: Context.make(Priority, 9) })
      const Later = Plain.annotate(Priority, 1)
      assert.isTrue(Option.isNone(Context.getOption(Plain.annotations, Priority)), "annotate copies the definition")
      const seen: Array<string> = []
      const readPriority = Middleware.layer((run, job) =>
        Effect.sync(() => {
          const priority = Context.getOption(job.annotations, Priority)
          seen.push(`${job.name}:${Option.isSome(priority) ? priority.value : "none"}`)
        }).pipe(Effect.andThen(run))
      )
      const handlers = Layer.mergeAll(
        Urgent.toLayer(() => Effect.void),
        Later.toLayer(() => Effect.void),
        readPriority
      )
      yield* Effect.gen(function* () {
        yield* Urgent.enqueue({})
        yield* Plain.enqueue({})
        yield* JobsTest.drain()
      }).pipe(Effect.provide(JobsTest.layerWith({ handlers })))
      assert.deepStrictEqual(seen, ["Urgent:9", "Plain:1"])
    })
  )
})
