/**
 * The README's quick start, verbatim, so it is typechecked and run by the tests: define a
 * job, handle it, run a worker, enqueue now / later / at a time / in bulk.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Job, JobClient, JobWorker, MemoryBackend } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import { Config, DateTime, Effect, Layer, Option, Schema } from "effect"

// 1. Define: producers import this, it carries no handler dependencies.
class MailerDown extends Schema.TaggedError<MailerDown>()("MailerDown", { message: Schema.String }) {}

export const SendWelcome = Job.make("SendWelcome", {
  payload: { userId: Schema.Number },
  error: MailerDown,
  queue: "mailers",
  retry: 5, // false, a number of retries, a Schedule, or RetryPolicy.*; default: Sidekiq's 25
  timeout: "30 seconds"
})

// 2. Handle (worker side): the handler's services become the layer's requirements.
//    Registration layers merge: `Layer.mergeAll(SendWelcome.toLayer(…), ImportRow.toLayer(…))`.
const Handlers = SendWelcome.toLayer(({ userId }, job) =>
  Effect.log(`welcome mail to ${userId}, attempt ${job.attempt}`)
)

// 3. The store: Redis when REDIS_URL is set (read as Redacted: it never prints), else in memory.
const Backend = Layer.unwrap(
  Effect.gen(function* () {
    const url = yield* Config.option(Config.Redacted("REDIS_URL"))
    return Option.isSome(url) ? RedisBackend.layer({ url: url.value, prefix: "quick-start" }) : MemoryBackend.layer()
  })
)

// 4. A worker (weighted queues: mailers ~10× as often as default, default never starved) and a client.
const App = Layer.mergeAll(
  JobWorker.layer({
    queues: [
      ["mailers", 10],
      ["default", 1]
    ],
    concurrency: 25
  }).pipe(Layer.provide(Handlers)),
  JobClient.layer()
).pipe(Layer.provideMerge(Backend))

// 5. Enqueue: now, later, at a time, or in bulk. Payloads are checked by the schema before any write.
const program = Effect.gen(function* () {
  yield* SendWelcome.enqueue({ userId: 1 })
  yield* SendWelcome.enqueue({ userId: 2 }, { delay: "5 minutes" })
  const tomorrow = DateTime.add(yield* DateTime.now, { days: 1 })
  yield* SendWelcome.enqueue({ userId: 3 }, { at: tomorrow, id: "welcome-3" })
  yield* SendWelcome.enqueueMany([{ userId: 4 }, { userId: 5 }])
})

// 6. Run: enqueue, then keep the worker up until Ctrl-C / SIGTERM, which shuts it down gracefully.
program.pipe(Effect.andThen(Effect.never), Effect.provide(App), NodeRuntime.runMain)
