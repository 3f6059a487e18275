/**
 * Shared fixtures for the engine tests: an in-memory jobs environment, a worker that can be
 * stopped on demand, and an event recorder. Everything runs on the TestClock of `it.effect`.
 */
import { Context, Effect, Exit, Layer, Logger, PubSub, Scope } from "effect"
import {
  JobClient,
  JobEvents,
  type JobRegistry,
  JobWorker,
  Middleware,
  ProcessRegistry,
  QueueStore
} from "../src/index.ts"

/** What a test environment provides. */
export type Jobs =
  | JobClient.JobClient
  | QueueStore.QueueStore
  | ProcessRegistry.ProcessRegistry
  | JobEvents.JobEvents
  | JobRegistry.JobRegistry

/** The memory store with some operations replaced. */
export const wrappedStore = (
  wrap: (store: QueueStore.QueueStore["Service"]) => Partial<QueueStore.QueueStore["Service"]>
): Layer.Layer<QueueStore.QueueStore> =>
  Layer.effect(
    QueueStore.QueueStore,
    Effect.map(QueueStore.makeMemory(), (store) => QueueStore.QueueStore.of({ ...store, ...wrap(store) }))
  )

/** Memory stores, client, event bus and the given handlers. `store` replaces the memory queue store. */
export const jobsLayer = (
  handlers: Layer.Layer<JobRegistry.JobRegistry>,
  options?: { readonly store?: Layer.Layer<QueueStore.QueueStore> }
): Layer.Layer<Jobs> =>
  Layer.merge(JobClient.layer(), handlers).pipe(
    Layer.provideMerge(
      Layer.mergeAll(options?.store ?? QueueStore.layerMemory(), ProcessRegistry.layerMemory, JobEvents.layer)
    )
  )

/** A started worker and the way to shut it down (closing its scope, as the layer's owner would). */
export interface RunningWorker {
  readonly worker: JobWorker.JobWorker["Service"]
  readonly stop: Effect.Effect<void>
}

/** Builds `JobWorker.layer(options)` in its own scope; the test's scope closes it if the test did not. */
export const startWorker = (
  options?: JobWorker.WorkerOptions
): Effect.Effect<RunningWorker, JobWorker.WorkerConfigError, Jobs | Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const context = yield* Layer.buildWithScope(JobWorker.layer(options), scope)
    return { worker: Context.get(context, JobWorker.JobWorker), stop: Scope.close(scope, Exit.void) }
  })

/** Lets forked fibers run without moving the clock. */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

/** Records every lifecycle event published from now on; `take` returns what arrived since the last call. */
export const recordEvents: Effect.Effect<
  Effect.Effect<ReadonlyArray<JobEvents.JobEvent>>,
  never,
  JobEvents.JobEvents | Scope.Scope
> = Effect.gen(function* () {
  const events = yield* JobEvents.JobEvents
  const subscription = yield* events.subscribe
  return PubSub.takeUpTo(subscription, Number.MAX_SAFE_INTEGER)
})

/** Tags of the events about one job, in order. */
export const tagsFor = (events: ReadonlyArray<JobEvents.JobEvent>, id: string): ReadonlyArray<string> =>
  events.filter((event) => event.id === id).map((event) => event._tag)

/** A logger layer that appends every line (its message parts joined) to `lines`. */
export const recordLogs = (lines: Array<string>) =>
  Logger.layer([
    Logger.make(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
  ])

/**
 * Asserts that `count` of `n` independent draws is the share `p` expects, within 3 standard
 * deviations of a binomial (`3·√(p(1-p)/n)`): a wrong rule fails, an unlucky seed does not.
 * For n = 10,000 and p = 10/11 that is ±0.0086, so 11:2 weights (0.846) fail where 10:1 pass.
 */
export const assertShare = (count: number, n: number, p: number, label: string): void => {
  const share = count / n
  const tolerance = 3 * Math.sqrt((p * (1 - p)) / n)
  if (Math.abs(share - p) > tolerance) {
    throw new Error(
      `${label}: share ${share.toFixed(4)} of ${n}, expected ${p.toFixed(4)} ± ${tolerance.toFixed(4)} (3 standard deviations)`
    )
  }
}

/** Provides middleware as the worker and the test kit take it: layers, the first made the outermost. */
export const provideMiddleware =
  (...middleware: ReadonlyArray<Middleware.JobMiddleware>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provide(effect, Layer.mergeAll(Layer.empty, ...middleware.map((m) => Middleware.layer(m))))
