/**
 * The `list`, `retry` and `delete` subcommands shared by `dead`, `scheduled` and `retries`.
 *
 * `--all` first takes a snapshot of the set's ids (paging through it), then acts on those
 * ids only, in chunks, with a progress bar on a terminal: jobs that land in the set while it
 * runs (a queue that keeps failing) are left alone, so it always ends.
 */
import { type JobRecord, QueueStore } from "@effect-jobs/core"
import * as Clock from "effect/Clock"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Backend from "../Backend.ts"
import { failed, usage } from "../CliFailure.ts"
import * as Logging from "../Logging.ts"
import { count, note, print, printJson, table, truncate } from "./output.ts"
import * as Progress from "./progress.ts"
import { errorMessage, formatMillis, parseWholeNumber } from "./values.ts"

/** How a set is named on the command line and in messages. */
export interface SetNames {
  /** The command: `dead`, `scheduled`, `retries`. */
  readonly command: string
  readonly set: QueueStore.JobSet
  /** "the dead set", "the scheduled set", "the retry set". */
  readonly title: string
}

const pageSize = 1000

/** `--limit`/`-n` and `--offset` of a paged list of `things` ("jobs", "entries"). */
export const pageFlags = (things: string) => ({
  limit: Flag.Int("limit").pipe(
    Flag.withAlias("n"),
    Flag.withDescription(`${things.charAt(0).toUpperCase()}${things.slice(1)} per page (default 25)`),
    Flag.mapTryCatch(parseWholeNumber(1), errorMessage),
    Flag.withDefault(25)
  ),
  offset: Flag.Int("offset").pipe(
    Flag.withDescription(`Skip this many ${things} (default 0)`),
    Flag.mapTryCatch(parseWholeNumber(0), errorMessage),
    Flag.withDefault(0)
  )
})
const chunkSize = 500

/** Takes the ids in the set now; paging may see a job twice when the set shifts, so ids are deduplicated. */
const snapshotIds = (set: QueueStore.JobSet) =>
  Effect.gen(function* () {
    const store = yield* QueueStore.QueueStore
    const first = yield* store.list(set, { offset: 0, limit: pageSize })
    const ids = new Set(first.jobs.map((job) => job.id))
    // Growth while paging only shifts jobs to later pages; stop once a page comes back short,
    // and in any case after twice the starting size, so a set that grows faster than we read
    // cannot keep us here.
    const ceiling = first.total * 2 + pageSize
    let offset = first.jobs.length
    let last = first.jobs.length
    while (last === pageSize && ids.size < ceiling) {
      const page = yield* store.list(set, { offset, limit: pageSize })
      for (const job of page.jobs) ids.add(job.id)
      offset += page.jobs.length
      last = page.jobs.length
    }
    return [...ids]
  })

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

const since = (now: number, at: number) =>
  at <= now ? `${formatMillis(now - at)} ago` : `in ${formatMillis(at - now)}`

const lastError = (job: JobRecord.StoredJob) => {
  const error = job.errors[job.errors.length - 1]
  return job.deadReason ?? (error === undefined ? "" : `${error.tag}: ${error.message}`)
}

/**
 * The list's table. A scheduled job has not run yet: attempts and errors would be an empty
 * column each, so it shows when it was enqueued instead.
 */
const listTable = (set: QueueStore.JobSet, now: number, jobs: ReadonlyArray<JobRecord.StoredJob>): string => {
  if (set === "scheduled") {
    const rows = jobs.map((job) => [
      job.id,
      truncate(job.name, 30),
      job.queue,
      since(now, job.runAt),
      since(now, job.enqueuedAt)
    ])
    return table(["ID", "JOB", "QUEUE", "DUE", "ENQUEUED"], rows)
  }
  const rows = jobs.map((job) => [
    job.id,
    truncate(job.name, 30),
    job.queue,
    String(job.attempt),
    since(now, set === "dead" ? (job.diedAt ?? job.runAt) : job.runAt),
    truncate(lastError(job), 60)
  ])
  return table(["ID", "JOB", "QUEUE", "ATTEMPT", set === "dead" ? "DIED" : "DUE", "ERROR"], rows, [3])
}

const at = (now: number, millis: number) => `${new Date(millis).toISOString()} (${since(now, millis)})`

/** One job in full: its fields, its payload, each failed attempt, the last one's cause. */
const describeJob = (set: QueueStore.JobSet, now: number, job: JobRecord.StoredJob): string => {
  const fields: Array<readonly [string, string]> = [
    ["ID", job.id],
    ["JOB", job.name],
    ["QUEUE", job.queue],
    ["ENQUEUED", at(now, job.enqueuedAt)]
  ]
  if (set === "dead") {
    fields.push(["DIED", at(now, job.diedAt ?? job.runAt)])
    if (job.deadReason !== undefined) fields.push(["REASON", job.deadReason])
  } else fields.push(["DUE", at(now, job.runAt)])
  if (set !== "scheduled") fields.push(["ATTEMPTS", String(job.attempt)])
  fields.push(["PAYLOAD", job.payload])
  const width = Math.max(...fields.map(([name]) => name.length))
  const lines = fields.map(([name, value]) => `${name.padEnd(width)}  ${value}`)
  if (job.errors.length > 0) {
    lines.push("", `ERRORS (${job.errors.length}, oldest first)`)
    for (const error of job.errors) {
      lines.push(`  attempt ${error.attempt}, ${new Date(error.at).toISOString()}: ${error.tag}: ${error.message}`)
    }
    const last = job.errors[job.errors.length - 1]!
    lines.push("", `CAUSE of attempt ${last.attempt}`, ...last.cause.split("\n").map((line) => `  ${line}`))
  }
  return lines.join("\n")
}

const showCommand = (names: SetNames) =>
  Command.make(
    "show",
    {
      id: Argument.String("id").pipe(Argument.withDescription("The job's id (see list)")),
      json: Flag.Boolean("json").pipe(Flag.withDescription("Print the job as one JSON object"), Flag.withDefault(false))
    },
    ({ id, json }) =>
      Logging.withLogging(
        Backend.withSharedStore(
          `${names.command} show`,
          Effect.gen(function* () {
            const store = yield* QueueStore.QueueStore
            const found = yield* store.get(id)
            if (Option.isNone(found)) return yield* failed(`no job with id ${JSON.stringify(id)}`)
            const job = found.value
            if (job.state !== names.set) {
              return yield* failed(`job ${JSON.stringify(id)} is not in ${names.title}: it is ${job.state}`)
            }
            if (json) return yield* printJson(job)
            yield* print(describeJob(names.set, yield* Clock.currentTimeMillis, job))
          }),
          { readOnly: true }
        )
      )
  ).pipe(Command.withDescription(`Show one job of ${names.title}: payload, attempts, errors and the last cause`))

const listCommand = (names: SetNames) =>
  Command.make(
    "list",
    {
      ...pageFlags("jobs"),
      all: Flag.Boolean("all").pipe(Flag.withDescription("List every job, page by page"), Flag.withDefault(false)),
      json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object per job"), Flag.withDefault(false))
    },
    (options) =>
      Logging.withLogging(
        Backend.withSharedStore(
          `${names.command} list`,
          Effect.gen(function* () {
            const store = yield* QueueStore.QueueStore
            const now = yield* Clock.currentTimeMillis
            const limit = options.all ? pageSize : options.limit
            let offset = options.offset
            let shown = 0
            let total = 0
            let header = true
            while (true) {
              const page = yield* store.list(names.set, { offset, limit })
              total = page.total
              if (options.json) {
                for (const job of page.jobs) yield* printJson(job)
              } else if (page.jobs.length > 0) {
                const rendered = listTable(names.set, now, page.jobs)
                yield* print(header ? rendered : rendered.split("\n").slice(1).join("\n"))
                header = false
              }
              shown += page.jobs.length
              offset += page.jobs.length
              if (!options.all || page.jobs.length < limit) break
            }
            if (options.json) return
            if (shown === 0) {
              return yield* print(
                total === 0
                  ? `${capitalize(names.title)} is empty.`
                  : `No jobs past offset ${options.offset} (${count(total)} in ${names.title}).`
              )
            }
            const more =
              !options.all && options.offset + shown < total ? `; next page: --offset ${options.offset + shown}` : ""
            yield* note(
              `showing ${count(options.offset + 1)}-${count(options.offset + shown)} of ${count(total)}${more}`
            )
          }),
          { readOnly: true }
        )
      )
  ).pipe(Command.withDescription(`List the jobs in ${names.title}, newest first for dead, soonest due otherwise`))

const actionCommand = (names: SetNames, verb: "retry" | "delete") =>
  Command.make(
    verb,
    {
      ids: Argument.String("id").pipe(Argument.withDescription("Job ids"), Argument.atLeast(0)),
      all: Flag.Boolean("all").pipe(
        Flag.withDescription(`Every job in ${names.title} when the command starts`),
        Flag.withDefault(false)
      )
    },
    ({ ids, all }) =>
      Logging.withLogging(
        Backend.withSharedStore(
          `${names.command} ${verb}`,
          Effect.gen(function* () {
            if (all && ids.length > 0) return yield* usage(`give job ids or --all, not both`)
            if (!all && ids.length === 0) {
              return yield* usage(`give the ids of the jobs to ${verb} (see ${names.command} list), or --all`)
            }
            const store = yield* QueueStore.QueueStore
            const act = (chunk: ReadonlyArray<string>) =>
              verb === "retry" ? store.retryNow(names.set, chunk) : store.remove(names.set, chunk)
            const done = verb === "retry" ? "moved to their queues" : "deleted"
            if (!all) {
              const changed = yield* act(ids)
              yield* print(`${count(changed)} of ${count(ids.length)} job(s) ${done}`)
              if (changed < ids.length) {
                return yield* failed(`${count(ids.length - changed)} of the ids were not in ${names.title}`)
              }
              return
            }
            const snapshot = yield* snapshotIds(names.set)
            if (snapshot.length === 0) return yield* print(`${capitalize(names.title)} is empty; nothing to ${verb}.`)
            const progress = Progress.make(`${names.command} ${verb}`, snapshot.length)
            let changed = 0
            yield* Effect.gen(function* () {
              for (let start = 0; start < snapshot.length; start += chunkSize) {
                const chunk = snapshot.slice(start, start + chunkSize)
                changed += yield* act(chunk)
                yield* progress.advance(chunk.length)
              }
            }).pipe(Effect.ensuring(progress.done))
            const gone = snapshot.length - changed
            yield* print(
              `${count(changed)} of ${count(snapshot.length)} job(s) ${done}` +
                (gone > 0 ? ` (${count(gone)} left ${names.title} meanwhile)` : "")
            )
          })
        )
      )
  ).pipe(
    Command.withDescription(
      verb === "retry"
        ? `Move jobs from ${names.title} to the end of their queue now${names.set === "dead" ? " (attempts reset)" : ""}`
        : `Delete jobs from ${names.title}`
    )
  )

/** The command group for one set. */
export const make = (names: SetNames, verbs: ReadonlyArray<"retry" | "delete">, description: string) =>
  Command.make(names.command).pipe(
    Command.withDescription(description),
    Command.withSubcommands([
      listCommand(names),
      showCommand(names),
      ...verbs.map((verb) => actionCommand(names, verb))
    ])
  )
