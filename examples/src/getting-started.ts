/**
 * The first program of docs/getting-started.md, verbatim, so it is typechecked and run by the
 * tests: a job, its handler, a worker and two enqueues, run as a user's `src/main.ts` would be.
 */
import { Job, JobClient, JobWorker, MemoryBackend } from "@effect-jobs/core"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"

// The job: its name, its payload's schema, how often to retry it.
export const SendWelcome = Job.make("SendWelcome", {
  payload: { userId: Schema.Number },
  retry: 5
})

// Its handler: what a worker runs for each job.
const Handlers = SendWelcome.toLayer(({ userId }, job) =>
  Effect.log(`welcome mail to user ${userId} (attempt ${job.attempt})`)
)

// A worker on the in-memory store, and a client to enqueue with.
const App = JobWorker.layer({ queues: ["default"], concurrency: 10 }).pipe(
  Layer.provide(Handlers),
  Layer.provideMerge(JobClient.layer()),
  Layer.provideMerge(MemoryBackend.layer())
)

const program = Effect.gen(function* () {
  yield* SendWelcome.enqueue({ userId: 1 })
  yield* SendWelcome.enqueue({ userId: 2 }, { delay: "1 second" })
  // A real worker runs until SIGTERM; this one stops once both jobs had time to run.
  yield* Effect.sleep("1500 millis")
})

program.pipe(Effect.provide(App), NodeRuntime.runMain)
