/**
 * `effect-jobs queues list|pause|resume`: the queues of a Redis-backed deployment. A paused
 * queue keeps its jobs and takes new ones, but no worker claims from it until it is resumed.
 */
import { QueueStore } from "@effect-jobs/core"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Backend from "../Backend.ts"
import { count, note, print, printJson, table } from "../internal/output.ts"
import { errorMessage, formatMillis, parseQueueName } from "../internal/values.ts"
import * as Logging from "../Logging.ts"

const names = Argument.String("queue").pipe(
  Argument.withDescription("Queue name(s)"),
  Argument.mapTryCatch(parseQueueName, errorMessage),
  Argument.atLeast(1)
)

const list = Command.make(
  "list",
  { json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false)) },
  ({ json }) =>
    Logging.withLogging(
      Backend.withSharedStore(
        "queues list",
        Effect.gen(function* () {
          const { queues } = yield* Effect.flatMap(QueueStore.QueueStore, (store) => store.stats)
          if (json) return yield* printJson(queues)
          if (queues.length === 0) return yield* print("No queues yet.")
          yield* print(
            table(
              ["QUEUE", "SIZE", "LATENCY", "STATE"],
              queues.map((q) => [
                q.name,
                count(q.size),
                q.size === 0 ? "-" : formatMillis(q.latencyMillis),
                q.paused ? "paused" : ""
              ]),
              [1, 2]
            )
          )
        }),
        { readOnly: true }
      )
    )
).pipe(Command.withDescription("List queues with their size, latency and whether they are paused"))

const toggle = (verb: "pause" | "resume") =>
  Command.make(verb, { queues: names }, ({ queues }) =>
    Logging.withLogging(
      Backend.withSharedStore(
        `queues ${verb}`,
        Effect.gen(function* () {
          const store = yield* QueueStore.QueueStore
          const known = new Set((yield* store.stats).queues.map((q) => q.name))
          for (const queue of queues) {
            yield* verb === "pause" ? store.pause(queue) : store.resume(queue)
            yield* print(`${verb === "pause" ? "paused" : "resumed"} ${queue}`)
            if (!known.has(queue)) yield* note(`note: ${queue} has never had a job; ${verb}d anyway`)
          }
        })
      )
    )
  ).pipe(
    Command.withDescription(
      verb === "pause"
        ? "Stop workers from claiming jobs of these queues (jobs stay, enqueueing still works)"
        : "Let workers claim jobs of these queues again"
    )
  )

/** The `queues` command group. */
export const command = Command.make("queues").pipe(
  Command.withDescription("List, pause and resume queues (needs --redis)"),
  Command.withSubcommands([list, toggle("pause"), toggle("resume")])
)
