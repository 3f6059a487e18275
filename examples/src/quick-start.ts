/**
 * The README's quick start, verbatim, so it is typechecked and run by the tests: define a
 * job, handle it, run a worker, enqueue now / later / at a time / in bulk.
 */
import { Job, JobClient, JobWorker, MemoryBackend } from "@effect-jobs/core"
import { Effect, Layer, Schema } from "effect"
import { runMain } from "./runMain.ts"

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

// 3. Run a worker: weighted queues (mailers ~10× as often as default, default never starved).
const Backend = MemoryBackend.layer()
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

// 4. Enqueue: now, later, at a time, or in bulk. Payloads are checked by the schema before any write.
const program = Effect.gen(function* () {
  yield* SendWelcome.enqueue({ userId: 1 })
  yield* SendWelcome.enqueue({ userId: 2 }, { delay: "5 minutes" })
  yield* SendWelcome.enqueue({ userId: 3 }, { at: new Date(Date.now() + 3_600_000), id: "welcome-3" })
  yield* SendWelcome.enqueueMany([{ userId: 4 }, { userId: 5 }])
})

// Run the program with the worker up, give the jobs due now a moment, then shut down gracefully.
runMain(program.pipe(Effect.andThen(Effect.sleep("200 millis")), Effect.provide(App)))
