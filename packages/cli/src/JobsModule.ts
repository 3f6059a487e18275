/**
 * The jobs module: the file `--jobs` points at, and how the CLI reads it.
 *
 * Contract (`examples` and the README show it in full):
 *
 * - **Handlers** (for `worker`): the default export, or a named export `handlers`, is
 *   - an array of handlers, `[SendWelcome.handle(...), ImportRow.handle(...)]`, whose
 *     handlers need nothing but `JobClient` (to enqueue follow-up jobs) and `CurrentJob`; or
 *   - a registration `Layer` (providing `JobRegistry`), e.g. `SendWelcome.toLayer(...)` or
 *     several merged with `Layer.mergeAll`, with your own services provided; it may require
 *     `JobClient`, which the worker supplies.
 * - **Definitions** (for `enqueue`): every exported job definition (`Job.make(...)`) as a
 *   named export or inside an exported array, plus the job of every handler in an array.
 *   A producer-side module with definitions only is enough for `enqueue`.
 *
 * The module is imported as-is (Node runs `.ts` files), so it resolves `@effect-jobs/core`
 * and `effect` from its own location.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"
import { type CurrentJob, Job, type JobClient, JobRegistry } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type CliFailure, failed, usage } from "./CliFailure.ts"
import { didYouMean } from "./internal/suggest.ts"
import { errorMessage } from "./internal/values.ts"

/** What a handler in an array form may require: the worker provides these. */
export type ProvidedToHandlers = JobClient.JobClient | CurrentJob.CurrentJob

/** The shape of the handlers export: an array of handlers or a layer giving `JobRegistry`. */
export type Handlers =
  | ReadonlyArray<Job.JobHandler<ProvidedToHandlers>>
  | Layer.Layer<JobRegistry.JobRegistry, unknown, JobClient.JobClient>

/** A loaded jobs module. */
export interface JobsModule {
  /** The path as given on the command line. */
  readonly path: string
  /** Every job definition found, by name. */
  readonly definitions: ReadonlyMap<string, Job.Any>
  /** The registry layer, when the module exports handlers. */
  readonly registry: Layer.Layer<JobRegistry.JobRegistry, unknown, JobClient.JobClient> | undefined
}

const contract =
  "expected the default export, or an export named `handlers`, to be an array of handlers " +
  "(`export default [SendWelcome.handle(...)]`) or a Layer providing JobRegistry " +
  "(`export const handlers = Layer.mergeAll(SendWelcome.toLayer(...), ...)`)"

const isHandler = (u: unknown): u is Job.JobHandler<unknown> =>
  typeof u === "object" && u !== null && Job.isJob((u as any).job) && typeof (u as any).run === "function"

const describe = (u: unknown): string =>
  u === null
    ? "null"
    : Array.isArray(u)
      ? "an array"
      : Layer.isLayer(u)
        ? "a Layer"
        : typeof u === "object" || typeof u === "undefined"
          ? `an ${typeof u}`
          : `a ${typeof u}`

/** Imports the module at `path` (relative to the working directory) and reads its exports. */
export const load = (path: string): Effect.Effect<JobsModule, CliFailure> =>
  Effect.gen(function* () {
    const absolute = NodePath.resolve(process.cwd(), path)
    const stat = NodeFs.statSync(absolute, { throwIfNoEntry: false })
    if (stat === undefined) {
      return yield* usage(
        `--jobs ${path}: no such file (looked for ${absolute}). ` +
          "Point --jobs at the module that exports your job definitions and handlers."
      )
    }
    if (!stat.isFile()) return yield* usage(`--jobs ${path}: ${absolute} is not a file; give the module file itself`)
    const exports = yield* Effect.tryPromise({
      try: () => import(pathToFileURL(absolute).href) as Promise<Record<string, unknown>>,
      catch: (error) => failed(`--jobs ${path} failed to load: ${errorMessage(error)}`)
    })

    const definitions = new Map<string, Job.Any>()
    const addJob = (job: Job.Any) => {
      if (!definitions.has(job.name)) definitions.set(job.name, job)
    }
    for (const value of Object.values(exports)) {
      if (Job.isJob(value)) addJob(value)
      else if (Array.isArray(value)) for (const item of value) if (Job.isJob(item)) addJob(item)
    }

    const name = exports.handlers !== undefined ? "handlers" : exports.default !== undefined ? "default" : undefined
    let registry: JobsModule["registry"]
    if (name !== undefined) {
      const value = exports[name]
      if (Layer.isLayer(value)) {
        registry = value as Layer.Layer<JobRegistry.JobRegistry, unknown, JobClient.JobClient>
      } else if (Array.isArray(value)) {
        const bad = value.findIndex((item) => !isHandler(item))
        if (bad >= 0) {
          return yield* usage(
            `--jobs ${path}: export ${name}[${bad}] is ${describe(value[bad])}, not a handler; ${contract}`
          )
        }
        if (value.length === 0) return yield* usage(`--jobs ${path}: export ${name} is an empty array; ${contract}`)
        for (const handler of value as ReadonlyArray<Job.JobHandler<unknown>>) addJob(handler.job)
        // Handlers may need `CurrentJob` (provided per run) and `JobClient` (provided by the worker).
        registry = JobRegistry.add(...(value as ReadonlyArray<Job.JobHandler<JobClient.JobClient>>))
      } else if (name === "handlers" || definitions.size === 0) {
        return yield* usage(`--jobs ${path}: export ${name} is ${describe(value)}; ${contract}`)
      }
    }
    return { path, definitions, registry }
  })

/** The registry layer, or a message saying what the module should export. */
export const handlers = (module: JobsModule) =>
  module.registry !== undefined
    ? Effect.succeed(module.registry)
    : Effect.gen(function* () {
        const found =
          module.definitions.size > 0 ? ` (found job definitions: ${[...module.definitions.keys()].join(", ")})` : ""
        return yield* usage(`--jobs ${module.path} exports no handlers${found}; ${contract}`)
      })

/** The definition named `name`, or a message listing what the module has. */
export const findJob = (module: JobsModule, name: string): Effect.Effect<Job.Any, CliFailure> => {
  const job = module.definitions.get(name)
  if (job !== undefined) return Effect.succeed(job)
  const known = [...module.definitions.keys()]
  return Effect.fail(
    usage(
      known.length === 0
        ? `--jobs ${module.path} exports no job definitions; export the Job.make(...) definitions so enqueue can find ${name}`
        : `no job named ${name} in ${module.path}.${didYouMean(name, known)} Known jobs: ${known.join(", ")}`
    )
  )
}
