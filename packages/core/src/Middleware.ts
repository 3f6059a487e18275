/**
 * Middleware wraps every job run: tracing, logging, error reporting, tenant context.
 *
 * A middleware receives the run (handler, timeout and inner middleware included) and the
 * job's info, and returns the effect to run instead. The first middleware in the list is
 * the outermost. Its result decides the job's fate exactly as a handler's would.
 */
import type * as Effect from "effect/Effect"
import type { JobInfo } from "./CurrentJob.ts"

/** Wraps a job run. */
export type JobMiddleware = (run: Effect.Effect<unknown, unknown>, job: JobInfo) => Effect.Effect<unknown, unknown>

/** Applies middleware so the first one is the outermost. */
export const apply = (
  middleware: ReadonlyArray<JobMiddleware>,
  run: Effect.Effect<unknown, unknown>,
  job: JobInfo
): Effect.Effect<unknown, unknown> => middleware.reduceRight((inner, wrap) => wrap(inner, job), run)
