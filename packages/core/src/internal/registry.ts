/**
 * The handlers of a context, assembled for the worker and the test kit.
 *
 * Each `JobRegistry.add` (and `Job.toLayer`) layer adds its handlers to the context it
 * outputs under keys of their own, so `Layer.mergeAll` of any number of them keeps every
 * handler. The worker reads them back from the context it is built in.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { JobInfo } from "../CurrentJob.ts"
import type * as Job from "../Job.ts"

/** Where a registration's handlers live in a context: `<prefix><registration>/<job name>`. */
export const keyPrefix = "@effect-jobs/core/JobRegistry/handler/"

/** A handler as a registration stores it in its layer's context. */
export interface Entry {
  readonly job: Job.Any
  /** Runs the handler in its own `Scope`; the other services it needs come from `withServices`. */
  readonly run: (payload: unknown, info: JobInfo) => Effect.Effect<unknown, unknown>
  /** The services the handler's layer was built with. */
  readonly captured: Context.Context<never>
}

/** A registered handler, ready to run. */
export interface RegisteredHandler {
  readonly job: Job.Any
  readonly run: (payload: unknown, info: JobInfo) => Effect.Effect<unknown, unknown>
  /**
   * A run's context: `context` plus the services the handler's layer was built with, where
   * `context` wins (a run's own middleware services, spans and log annotations are added
   * inside it). The merge is remembered for the last context seen, so the runs of one
   * worker, which all start from the same context, share one.
   */
  readonly withServices: <R>(context: Context.Context<R>) => Context.Context<R>
}

/** The handlers a worker knows, by job name. */
export interface Registry {
  readonly get: (name: string) => RegisteredHandler | undefined
  readonly names: ReadonlyArray<string>
}

const registered = (entry: Entry): RegisteredHandler => {
  let lastContext: unknown
  let lastMerged: unknown
  return {
    job: entry.job,
    run: entry.run,
    withServices: <R>(context: Context.Context<R>): Context.Context<R> => {
      if (context !== lastContext) {
        lastContext = context
        lastMerged = Context.merge(entry.captured, context)
      }
      return lastMerged as Context.Context<R>
    }
  }
}

/**
 * The handlers registered in `context`, or a message naming a job registered twice (two
 * registrations of one job in one worker: which one should run?).
 */
export const fromContext = (context: Context.Context<never>): Registry | string => {
  const byName = new Map<string, RegisteredHandler>()
  for (const [key, value] of context.mapUnsafe) {
    if (!key.startsWith(keyPrefix)) continue
    const entry = value as Entry
    if (byName.has(entry.job.name)) {
      return `two handlers are registered for ${entry.job.name}; register each job once per worker`
    }
    byName.set(entry.job.name, registered(entry))
  }
  return { get: (name) => byName.get(name), names: [...byName.keys()] }
}

/** Where middleware layers put their middleware: `<prefix><order>`. */
export const middlewarePrefix = "@effect-jobs/core/Middleware/"

/** A middleware as its layer stores it, with the services the layer was built with. */
export type StoredMiddleware = (run: Effect.Effect<unknown, unknown>, job: JobInfo) => Effect.Effect<unknown, unknown>

/** The middleware of `context`, outermost first (in the order their layers were made). */
export const middlewareFromContext = (context: Context.Context<never>): ReadonlyArray<StoredMiddleware> => {
  const found: Array<readonly [number, StoredMiddleware]> = []
  for (const [key, value] of context.mapUnsafe) {
    if (key.startsWith(middlewarePrefix)) found.push([Number(key.slice(middlewarePrefix.length)), value])
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, middleware]) => middleware)
}
