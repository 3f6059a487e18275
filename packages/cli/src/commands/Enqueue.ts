/**
 * `effect-jobs enqueue`: validates a payload with its job's schema and writes the job.
 *
 * `enqueue SendWelcome --jobs ./src/jobs.ts --payload '{"userId":1}'` prints the new job's
 * id. `--file jobs.ndjson` enqueues one job per line: a payload per line when a job name is
 * given, otherwise `{"job": "Name", "payload": {...}}` envelopes (optionally with `queue`,
 * `delay`, `at`, `id`). Every line is validated before anything is written, so a bad line
 * leaves the store untouched; the message names the line and the field.
 *
 * Enqueueing needs `--redis` (a job enqueued into this process's in-memory store would
 * vanish on exit); without it, or with `--dry-run`, the command only validates.
 */
import * as NodeFs from "node:fs"
import { type Job, JobClient, QueueStore } from "@effect-jobs/core"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Backend from "../Backend.ts"
import { type CliFailure, failed, usage } from "../CliFailure.ts"
import { count, note, print, printJson } from "../internal/output.ts"
import * as Progress from "../internal/progress.ts"
import { errorMessage, parseDuration, parseInstant, parseQueueName } from "../internal/values.ts"
import * as JobsModule from "../JobsModule.ts"
import * as Logging from "../Logging.ts"

/** Enqueue options shared by single and bulk mode. */
interface Timing {
  readonly queue?: string | undefined
  readonly delay?: number | undefined
  readonly at?: number | undefined
  readonly id?: string | undefined
}

/** One job to write, validated. */
interface Entry {
  readonly line: number | undefined
  readonly job: Job.Any
  readonly payload: unknown
  readonly timing: Timing
}

const flags = {
  job: Argument.String("job").pipe(
    Argument.withDescription("Job name, as given to Job.make (optional with --file envelopes)"),
    Argument.optional
  ),
  jobs: Flag.String("jobs").pipe(
    Flag.withAlias("j"),
    Flag.withMetavar("MODULE"),
    Flag.withDescription("Module exporting the job definitions")
  ),
  payload: Flag.String("payload").pipe(
    Flag.withAlias("p"),
    Flag.withMetavar("JSON"),
    Flag.withDescription("The payload as JSON (default {})"),
    Flag.optional
  ),
  file: Flag.String("file").pipe(
    Flag.withAlias("f"),
    Flag.withMetavar("NDJSON"),
    Flag.withDescription("Enqueue one job per line: payloads, or {job, payload, queue?, delay?, at?, id?} envelopes"),
    Flag.optional
  ),
  delay: Flag.String("delay").pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription("Run after this delay, e.g. 30s, 5m"),
    Flag.mapTryCatch(parseDuration, errorMessage),
    Flag.optional
  ),
  at: Flag.String("at").pipe(
    Flag.withMetavar("TIME"),
    Flag.withDescription("Run at this ISO 8601 time, e.g. 2030-01-01T09:00:00Z"),
    Flag.mapTryCatch(parseInstant, errorMessage),
    Flag.optional
  ),
  queue: Flag.String("queue").pipe(
    Flag.withAlias("q"),
    Flag.withDescription("Queue to use instead of the job's own"),
    Flag.mapTryCatch(parseQueueName, errorMessage),
    Flag.optional
  ),
  id: Flag.String("id").pipe(
    Flag.withDescription("Your own job id; enqueueing an id that exists does nothing and says so"),
    Flag.optional
  ),
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("Validate only; write nothing"), Flag.withDefault(false)),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print the result as JSON"), Flag.withDefault(false))
}

const option = <A>(o: Option.Option<A>): A | undefined => (Option.isSome(o) ? o.value : undefined)

const parseJson = (text: string, where: string): Effect.Effect<unknown, CliFailure> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) => usage(`${where} is not valid JSON: ${errorMessage(error)}`)
  })

/** Reads the lines of an NDJSON file into entries (not yet validated). */
const readFile = (path: string, module: JobsModule.JobsModule, named: Job.Any | undefined, defaults: Timing) =>
  Effect.gen(function* () {
    const text = yield* Effect.try({
      try: () => NodeFs.readFileSync(path, "utf8"),
      catch: (error) => usage(`--file ${path}: cannot read it (${errorMessage(error)})`)
    })
    const entries: Array<Entry> = []
    const lines = text.split("\n")
    for (let index = 0; index < lines.length; index++) {
      const raw = lines[index]!.trim()
      if (raw === "") continue
      const where = `${path}:${index + 1}`
      const value = yield* parseJson(raw, where)
      if (named !== undefined) {
        entries.push({ line: index + 1, job: named, payload: value, timing: defaults })
        continue
      }
      if (typeof value !== "object" || value === null || typeof (value as any).job !== "string") {
        return yield* usage(
          `${where}: expected {"job": "Name", "payload": {...}} (or give the job name as an argument to read payloads)`
        )
      }
      const envelope = value as Record<string, unknown>
      const job = yield* JobsModule.findJob(module, envelope.job as string).pipe(
        Effect.mapError((error) => usage(`${where}: ${error.message}`))
      )
      const timing = yield* Effect.try({
        try: (): Timing => ({
          queue: envelope.queue === undefined ? defaults.queue : parseQueueName(String(envelope.queue)),
          delay: envelope.delay === undefined ? defaults.delay : parseDuration(String(envelope.delay)),
          at: envelope.at === undefined ? defaults.at : parseInstant(String(envelope.at)),
          id: envelope.id === undefined ? undefined : String(envelope.id)
        }),
        catch: (error) => usage(`${where}: ${errorMessage(error)}`)
      })
      entries.push({ line: index + 1, job, payload: envelope.payload ?? {}, timing })
    }
    if (entries.length === 0) return yield* usage(`--file ${path} has no jobs in it`)
    return entries
  })

const enqueueOptions = (timing: Timing): Job.EnqueueOptions => ({
  ...(timing.queue === undefined ? {} : { queue: timing.queue }),
  ...(timing.delay === undefined ? {} : { delay: timing.delay }),
  ...(timing.at === undefined ? {} : { at: timing.at }),
  ...(timing.id === undefined ? {} : { id: timing.id })
})

const where = (entry: Entry) => (entry.line === undefined ? "--payload" : `line ${entry.line}`)

/**
 * Checks every entry with the client's own validation (schema, JSON round trip, size),
 * through a throwaway in-memory store, and reports up to ten bad entries at once.
 */
const validate = (entries: ReadonlyArray<Entry>) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    // A fresh store per chunk keeps memory flat on big files.
    for (let start = 0; start < entries.length && problems.length < 10; start += 1000) {
      const client = yield* JobClient.make().pipe(Effect.provide(QueueStore.layerMemory()))
      for (const entry of entries.slice(start, start + 1000)) {
        const checked = yield* Effect.result(client.enqueue(entry.job, entry.payload, enqueueOptions(entry.timing)))
        if (checked._tag === "Failure") {
          problems.push(`${where(entry)}: ${checked.failure.message}`)
          if (problems.length >= 10) break
        }
      }
    }
    if (problems.length > 0) {
      if (entries.length === 1) return yield* usage(`${problems[0]} (nothing enqueued)`)
      const many = problems.length >= 10 ? "at least 10" : String(problems.length)
      return yield* usage(`${many} invalid job(s), nothing enqueued:\n  ${problems.join("\n  ")}`)
    }
  })

/** Jobs per store call when writing a file. */
const chunkSize = 500

/**
 * Writes entries in chunks of `chunkSize`, one store call each, whatever their jobs, queues,
 * times and ids. A client over a store that only records what it is given turns each entry
 * into its stored form (payload encoding, id, due time, trace), exactly as it would write
 * it; the chunk then goes to the real store in one call. A chunk never holds one id twice,
 * so each line's outcome is its own.
 */
const write = (entries: ReadonlyArray<Entry>, progress: Progress.Progress) =>
  Effect.gen(function* () {
    const store = yield* QueueStore.QueueStore
    let pending: Array<QueueStore.NewJob> = []
    const recorder = QueueStore.QueueStore.of({
      ...store,
      enqueue: (jobs) =>
        Effect.sync(() => {
          for (const job of jobs) pending.push(job)
          return jobs.map((job) => ({ id: job.id, outcome: "enqueued" as const }))
        })
    })
    const client = yield* JobClient.make().pipe(Effect.provideService(QueueStore.QueueStore, recorder))
    const outcomes = { enqueued: 0, scheduled: 0, duplicate: 0 }
    const ids: Array<string> = []
    const flush = Effect.gen(function* () {
      if (pending.length === 0) return
      const chunk = pending
      pending = []
      for (const result of yield* store.enqueue(chunk)) {
        outcomes[result.outcome]++
        ids.push(result.id)
      }
      yield* progress.advance(chunk.length)
    })
    const chosenIds = new Set<string>()
    for (const entry of entries) {
      const id = entry.timing.id
      if (pending.length >= chunkSize || (id !== undefined && chosenIds.has(id))) {
        yield* flush
        chosenIds.clear()
      }
      if (id !== undefined) chosenIds.add(id)
      yield* client.enqueue(entry.job, entry.payload, enqueueOptions(entry.timing))
    }
    yield* flush
    return { outcomes, ids }
  })

/** The `enqueue` command. */
export const command = Command.make("enqueue", flags, (options) =>
  Logging.withLogging(
    Effect.gen(function* () {
      if (Option.isSome(options.delay) && Option.isSome(options.at)) {
        return yield* usage("give one of --delay and --at, not both")
      }
      if (Option.isSome(options.file) && Option.isSome(options.payload)) {
        return yield* usage("give one of --payload and --file, not both")
      }
      const module = yield* JobsModule.load(options.jobs)
      const named = Option.isSome(options.job) ? yield* JobsModule.findJob(module, options.job.value) : undefined
      const defaults: Timing = {
        queue: option(options.queue),
        delay: option(options.delay),
        at: option(options.at),
        id: Option.isSome(options.file) ? undefined : option(options.id)
      }
      if (Option.isSome(options.file) && Option.isSome(options.id)) {
        return yield* usage("--id names one job; put ids on the lines of --file instead")
      }
      let entries: ReadonlyArray<Entry>
      if (Option.isSome(options.file)) {
        entries = yield* readFile(options.file.value, module, named, defaults)
      } else {
        if (named === undefined) return yield* usage("give the job name, e.g. enqueue SendWelcome --payload '{...}'")
        const payload = yield* parseJson(
          Option.getOrElse(options.payload, () => "{}"),
          "--payload"
        )
        entries = [{ line: undefined, job: named, payload, timing: defaults }]
      }

      yield* validate(entries)
      const target = yield* Backend.target
      if (options.dryRun) {
        return yield* options.json
          ? printJson({ valid: entries.length })
          : note(`${count(entries.length)} job(s) valid; nothing written (--dry-run)`)
      }
      if (target._tag === "Memory") {
        return yield* usage(
          "enqueue needs --redis URL (or REDIS_URL): without it the job would go into an in-memory store " +
            "that lives only as long as this command, and no worker would ever see it. " +
            "The payload is valid; pass the Redis URL your workers use, or --dry-run to only validate"
        )
      }
      const bulk = Option.isSome(options.file)
      const progress = Progress.make("enqueueing", entries.length, bulk && process.stderr.isTTY === true)
      const { outcomes, ids } = yield* write(entries, progress).pipe(
        Effect.ensuring(progress.done),
        Effect.provide(JobClient.layer()),
        Effect.provide(Backend.layer(target)),
        Effect.catchTag("QueueStoreError", (error) => Effect.fail(failed(`enqueue: ${error.message}`))),
        Effect.catch((error) =>
          Effect.fail(error._tag === "CliFailure" ? error : usage(`${error.job}: ${error.message}`))
        )
      )
      if (!bulk) {
        const result = {
          id: ids[0]!,
          outcome: outcomes.duplicate > 0 ? "duplicate" : outcomes.scheduled > 0 ? "scheduled" : "enqueued"
        }
        if (options.json) return yield* printJson(result)
        yield* print(result.id)
        if (result.outcome === "duplicate") yield* note(`a job with id ${result.id} already exists; nothing changed`)
        return
      }
      if (options.json) return yield* printJson(outcomes)
      yield* print(
        `enqueued ${count(entries.length - outcomes.duplicate)} of ${count(entries.length)} jobs from ${options.file.value}` +
          ` (${count(outcomes.enqueued)} ready, ${count(outcomes.scheduled)} scheduled, ${count(outcomes.duplicate)} duplicate)`
      )
    })
  )
).pipe(
  Command.withDescription("Validate a payload with its job's schema and enqueue the job; prints the id"),
  Command.withExamples([
    {
      command: `effect-jobs enqueue SendWelcome --jobs ./src/jobs.ts --payload '{"userId":1}' --delay 5m`,
      description: "Enqueue one job to run in five minutes"
    },
    {
      command: "effect-jobs enqueue ImportRow --jobs ./src/jobs.ts --file rows.ndjson",
      description: "Enqueue one ImportRow per line of payloads"
    }
  ])
)
