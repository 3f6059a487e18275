/**
 * Middleware wraps every job run: error reporting, logging, tenant context, rate limits.
 *
 * A middleware receives the run (handler, timeout and inner middleware included) and the
 * job's info, and returns the effect to run instead; its result decides the job's fate
 * exactly as a handler's would. It is provided as a layer, beside the handlers, and the
 * worker and the test kit both pick it up from there; the services it needs become the
 * layer's requirements, as a handler's do.
 *
 * ```ts
 * const ReportErrors = Middleware.layer((run, job) =>
 *   Effect.tapCause(run, (cause) => ErrorTracker.use((tracker) => tracker.report(job, cause)))
 * )
 * JobWorker.layer().pipe(Layer.provide(Layer.mergeAll(Handlers, ReportErrors)))
 * ```
 *
 * Several middleware layers nest in the order the layers were made: the first made is the
 * outermost.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { CurrentJob, JobInfo } from "./CurrentJob.ts"
import { middlewarePrefix, type StoredMiddleware } from "./internal/registry.ts"

/**
 * Wraps a job run; may need services `R`.
 *
 * @since 0.1.0
 * @category models
 */
export type JobMiddleware<R = never> = (
  run: Effect.Effect<unknown, unknown>,
  job: JobInfo
) => Effect.Effect<unknown, unknown, R>

let made = 0

/**
 * Provides a middleware to the worker or test kit it is given to. It requires what the
 * middleware needs (but `CurrentJob`, provided to every run, and `Scope`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  middleware: JobMiddleware<R>
): Layer.Layer<never, never, Exclude<R, CurrentJob | Scope.Scope>> => {
  const key = `${middlewarePrefix}${made++}`
  return Layer.effectContext(
    Effect.map(Effect.context<Exclude<R, CurrentJob | Scope.Scope>>(), (context) => {
      const captured = Context.omit(Scope.Scope)(context) as Context.Context<never>
      // The run's own context wins over the services captured when the layer was built.
      const stored: StoredMiddleware = (run, job) =>
        Effect.updateContext(
          middleware(run, job) as Effect.Effect<unknown, unknown>,
          (current: Context.Context<never>) => Context.merge(captured, current)
        )
      return Context.makeUnsafe<never>(new Map([[key, stored]]))
    })
  )
}

/**
 * Applies middleware so the first one is the outermost.
 *
 * @since 0.1.0
 * @category combinators
 */
export const apply = (
  middleware: ReadonlyArray<JobMiddleware>,
  run: Effect.Effect<unknown, unknown>,
  job: JobInfo
): Effect.Effect<unknown, unknown> => middleware.reduceRight((inner, wrap) => wrap(inner, job), run)
