/**
 * Registering handlers with the worker.
 *
 * A handler is registered by a layer: `SendWelcome.toLayer(handler)`, or
 * `JobRegistry.add(SendWelcome.handle(...), ImportRow.handle(...))` for several at once.
 * Registration layers compose like any layers: `Layer.mergeAll(Mailers, Imports, Billing)`
 * keeps the handlers of all three, each split by module as an app grows. Each layer captures
 * the services its handlers need when it is built, so it requires exactly the union of their
 * requirements, and a worker provided with it needs nothing more.
 *
 * ```ts
 * const Handlers = Layer.mergeAll(
 *   SendWelcome.toLayer(({ userId }) => Mailer.use((mailer) => mailer.welcome(userId))),
 *   ImportRow.toLayer(function* (row) { ... })
 * ).pipe(Layer.provide(Mailer.layer))
 *
 * JobWorker.layer({ concurrency: 25 }).pipe(Layer.provide(Handlers))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { CurrentJob } from "./CurrentJob.ts"
import { type Entry, fromContext, keyPrefix } from "./internal/registry.ts"
import type * as Job from "./Job.ts"

const TypeId = "~@effect-jobs/core/JobRegistry" as const

/**
 * Says that a context holds registered handlers: what a worker requires. The handlers
 * themselves are kept in the context beside it, one entry per registration, so merged
 * registration layers keep all of theirs; `names` lists them.
 *
 * @since 0.1.0
 * @category services
 */
export class JobRegistry extends Context.Service<JobRegistry, { readonly [TypeId]: typeof TypeId }>()(
  "@effect-jobs/core/JobRegistry"
) {}

/**
 * What a registration layer requires: its handlers' services, but not `CurrentJob` (provided
 * to every run) nor `Scope` (each run gets its own).
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements<Handlers extends ReadonlyArray<Job.JobHandler<any>>> = Exclude<
  Handlers[number] extends Job.JobHandler<infer R> ? R : never,
  CurrentJob | Scope.Scope
>

let registrations = 0
const marker = JobRegistry.of({ [TypeId]: TypeId })

/**
 * Registers handlers with the worker (or the test kit) this layer is provided to. Fails
 * to build (a defect) when it is given two handlers of one job.
 *
 * @since 0.1.0
 * @category layers
 */
export const add = <const Handlers extends ReadonlyArray<Job.JobHandler<any>>>(
  ...handlers: Handlers
): Layer.Layer<JobRegistry, never, Requirements<Handlers>> => {
  const registration = `${keyPrefix}${registrations++}/`
  return Layer.effectContext(
    Effect.gen(function* () {
      // The layer's own Scope is left out: a job's resources close when the job ends.
      const captured = Context.omit(Scope.Scope)(
        yield* Effect.context<Requirements<Handlers>>()
      ) as Context.Context<never>
      const entries = new Map<string, Entry>()
      for (const handler of handlers) {
        if (entries.has(handler.job.name)) {
          return yield* Effect.die(
            new Error(`JobRegistry: two handlers for ${handler.job.name}; register each job once`)
          )
        }
        entries.set(handler.job.name, {
          job: handler.job,
          run: (payload, info) =>
            Effect.scoped(
              Effect.suspend(() => handler.run(payload, info)) as Effect.Effect<unknown, unknown, Scope.Scope>
            ),
          captured
        })
      }
      const map = new Map<string, unknown>([[JobRegistry.key, marker]])
      for (const [name, entry] of entries) map.set(registration + name, entry)
      return Context.makeUnsafe<JobRegistry>(map)
    })
  )
}

/**
 * The names of the jobs registered in the current context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const names: Effect.Effect<ReadonlyArray<string>, never, JobRegistry> = Effect.map(
  Effect.context<JobRegistry>(),
  (context) => {
    const registry = fromContext(context as Context.Context<never>)
    return typeof registry === "string" ? [] : registry.names
  }
)
