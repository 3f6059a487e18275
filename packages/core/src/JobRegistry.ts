/**
 * The registry of handlers a worker runs, keyed by job name.
 *
 * `JobRegistry.layer(SendWelcome.handle(...), ImportRow.handle(...))` captures the services
 * the handlers need when the layer is built, so the layer requires exactly the union of
 * the handlers' requirements and the worker itself needs nothing more.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { CurrentJob, JobInfo } from "./CurrentJob.ts"
import type * as Job from "./Job.ts"

/** A registered handler. Its run gets its own `Scope`; its other services come from `withServices`. */
export interface RegisteredHandler {
  readonly job: Job.Any
  readonly run: (payload: unknown, info: JobInfo) => Effect.Effect<unknown, unknown>
}

/** The handlers a worker knows. */
export class JobRegistry extends Context.Service<
  JobRegistry,
  {
    readonly get: (name: string) => RegisteredHandler | undefined
    readonly names: ReadonlyArray<string>
    /**
     * A run's context: `context` plus the services the handlers captured when the layer was
     * built, where `context` wins (a run's own middleware services, spans and log annotations
     * are added inside it). Apply it to the context a whole run starts from: the merge is
     * remembered for the last context seen, so the runs of one worker, which all start from the
     * same context, share one.
     */
    readonly withServices: <R>(context: Context.Context<R>) => Context.Context<R>
  }
>()("@effect-jobs/core/JobRegistry") {}

// `CurrentJob` is provided to every run by the processor and each run gets its own `Scope`,
// so neither is a requirement of the layer.
type Requirements<Handlers extends ReadonlyArray<Job.JobHandler<any>>> = Exclude<
  Handlers[number] extends Job.JobHandler<infer R> ? R : never,
  CurrentJob | Scope.Scope
>

/** Builds a registry from handlers, providing each with the services it needs. */
export const make = <const Handlers extends ReadonlyArray<Job.JobHandler<any>>>(
  ...handlers: Handlers
): Effect.Effect<JobRegistry["Service"], never, Requirements<Handlers>> =>
  Effect.gen(function* () {
    // The layer's own Scope is left out: a job's resources close when the job ends.
    const captured = Context.omit(Scope.Scope)(yield* Effect.context<Requirements<Handlers>>())
    // What the run already has wins over the services captured when the layer was built.
    // Merging copies both contexts, so the last merge is kept for the next run.
    let lastContext: unknown
    let lastMerged: unknown
    const withServices = <R>(context: Context.Context<R>): Context.Context<R> => {
      if (context !== lastContext) {
        lastContext = context
        lastMerged = Context.merge(captured, context)
      }
      return lastMerged as Context.Context<R>
    }
    const byName = new Map<string, RegisteredHandler>()
    for (const handler of handlers) {
      if (byName.has(handler.job.name)) {
        return yield* Effect.die(new Error(`JobRegistry: two handlers for ${handler.job.name}; register each job once`))
      }
      byName.set(handler.job.name, {
        job: handler.job,
        run: (payload, info) =>
          Effect.scoped(
            Effect.suspend(() => handler.run(payload, info)) as Effect.Effect<unknown, unknown, Scope.Scope>
          )
      })
    }
    return JobRegistry.of({
      get: (name) => byName.get(name),
      names: [...byName.keys()],
      withServices
    })
  })

/** The registry as a layer; requires what the handlers require. */
export const layer = <const Handlers extends ReadonlyArray<Job.JobHandler<any>>>(
  ...handlers: Handlers
): Layer.Layer<JobRegistry, never, Requirements<Handlers>> => Layer.effect(JobRegistry, make(...handlers))
