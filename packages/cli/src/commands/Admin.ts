/**
 * `effect-jobs admin quarantine list|show|requeue|delete`: the entries a store set aside
 * because it could not read their record, or a newer version of effect-jobs wrote it. The
 * stored text is kept as found; `show` prints it, `requeue` puts an entry back in its queue,
 * `delete` removes it with everything stored for it.
 */
import { QueueStore } from "@effect-jobs/core"
import * as Clock from "effect/Clock"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Backend from "../Backend.ts"
import { failed, usage } from "../CliFailure.ts"
import * as Logging from "../Logging.ts"
import { count, note, print, printJson, table, truncate } from "../internal/output.ts"
import { pageFlags } from "../internal/jobSet.ts"
import { formatMillis } from "../internal/values.ts"

const pageSize = 1000

/** Every quarantined entry, page by page. */
const allEntries = Effect.gen(function* () {
  const store = yield* QueueStore.QueueStore
  const entries: Array<QueueStore.QuarantinedEntry> = []
  for (;;) {
    const page = yield* store.listQuarantine({ offset: entries.length, limit: pageSize })
    entries.push(...page.entries)
    if (page.entries.length < pageSize || entries.length >= page.total) return entries
  }
})

const list = Command.make(
  "list",
  {
    ...pageFlags("entries"),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object per entry"), Flag.withDefault(false))
  },
  ({ json, limit, offset }) =>
    Logging.withLogging(
      Backend.withSharedStore(
        "admin quarantine list",
        Effect.gen(function* () {
          const store = yield* QueueStore.QueueStore
          const now = yield* Clock.currentTimeMillis
          const page = yield* store.listQuarantine({ offset, limit })
          if (json) {
            for (const entry of page.entries) yield* printJson(entry)
            return
          }
          if (page.entries.length === 0) {
            return yield* print(
              page.total === 0 ? "The quarantine is empty." : `No entries past offset ${offset} (${count(page.total)}).`
            )
          }
          const rows = page.entries.map((entry) => [
            entry.id,
            entry.queue,
            `${formatMillis(Math.max(0, now - entry.quarantinedAt))} ago`,
            truncate(entry.reason, 80)
          ])
          yield* print(table(["ID", "QUEUE", "SET ASIDE", "REASON"], rows, []))
          yield* note(
            `showing ${count(offset + 1)}-${count(offset + page.entries.length)} of ${count(page.total)}; ` +
              "`admin quarantine show <id>` prints what is stored"
          )
        }),
        { readOnly: true }
      )
    )
).pipe(Command.withDescription("List the entries set aside as unreadable or of a newer format, oldest first"))

const show = Command.make(
  "show",
  { id: Argument.String("id").pipe(Argument.withDescription("The entry's job id")) },
  ({ id }) =>
    Logging.withLogging(
      Backend.withSharedStore(
        "admin quarantine show",
        Effect.gen(function* () {
          const entry = (yield* allEntries).find((candidate) => candidate.id === id)
          if (entry === undefined) return yield* failed(`${id} is not in the quarantine (see admin quarantine list)`)
          yield* printJson(entry)
        }),
        { readOnly: true }
      )
    )
).pipe(Command.withDescription("Print one entry as JSON: why, when, and its stored record, payload and errors"))

const action = (verb: "requeue" | "delete") =>
  Command.make(
    verb,
    { ids: Argument.String("id").pipe(Argument.withDescription("Job ids"), Argument.atLeast(1)) },
    ({ ids }) =>
      Logging.withLogging(
        Backend.withSharedStore(
          `admin quarantine ${verb}`,
          Effect.gen(function* () {
            if (ids.length === 0) return yield* usage(`give the ids of the entries to ${verb}`)
            const store = yield* QueueStore.QueueStore
            const changed =
              verb === "requeue" ? yield* store.requeueQuarantined(ids) : yield* store.removeQuarantined(ids)
            yield* print(
              `${count(changed)} of ${count(ids.length)} entr${ids.length === 1 ? "y" : "ies"} ` +
                (verb === "requeue" ? "put back in their queue" : "deleted")
            )
            if (changed < ids.length) {
              return yield* failed(
                `${count(ids.length - changed)} of the ids were not in the quarantine` +
                  (verb === "requeue" ? " or have no record or job name to re-enqueue them under" : "")
              )
            }
          })
        )
      )
  ).pipe(
    Command.withDescription(
      verb === "requeue"
        ? "Put entries back at the end of their queue (a newer format's record as it is, for a newer worker)"
        : "Delete entries with everything stored for them"
    )
  )

const quarantine = Command.make("quarantine").pipe(
  Command.withDescription("Entries set aside because their record could not be read (needs --redis)"),
  Command.withSubcommands([list, show, action("requeue"), action("delete")])
)

/** The `admin` command group. */
export const command = Command.make("admin").pipe(
  Command.withDescription("Store administration: the quarantine"),
  Command.withSubcommands([quarantine])
)
