/**
 * The jobs module of the start-up row's `effect-jobs worker` (`--jobs`): the bench's `Noop`
 * job, whose first run tells the harness (over the IPC channel `fork` gives the CLI process)
 * when it started and what the process had used by then. Imports Effect by module, as the
 * library does; `import { Effect } from "effect"` here would load all of Effect into the CLI.
 */
import { Job } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { firstJob, nowMillis, queueName } from "./protocol.ts"

/** The bench's no-op job, as `systems/effectJobs.ts` enqueues it. */
export const Noop = Job.make("Noop", {
  payload: { t: Schema.Number, d: Schema.Number, f: Schema.Number },
  queue: queueName
})

let reported = false

export default [
  Noop.handle(() =>
    Effect.sync(() => {
      if (reported) return
      reported = true
      process.send?.(firstJob(nowMillis()))
    })
  )
]
