/**
 * The test kit: jobs in memory, run inline, inspected by type. `@effect-jobs/core/testing`.
 *
 * Two modes, as in Sidekiq's testing helpers:
 * - fake (`JobsTest.layer`, or `JobsTest.layerWith({ handlers })`): enqueued jobs wait in the
 *   in-memory store; assert on `enqueued(SendWelcome)`, then `drain` runs every job that is
 *   due, inline, in order.
 * - inline (`JobsTest.layerWith({ handlers, inline: true })`): every enqueue runs the jobs
 *   due right away, so code under test sees the job's effects before the enqueue returns.
 *
 * Times come from `Clock`: under `it.effect`, `TestClock.adjust` makes scheduled jobs and
 * retries due.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Job from "./Job.ts"
import * as JobClient from "./JobClient.ts"
import * as JobEvents from "./JobEvents.ts"
import type { StoredJob } from "./JobRecord.ts"
import type { JobRegistry } from "./JobRegistry.ts"
import { fromContext, middlewareFromContext } from "./internal/registry.ts"
import * as MemoryBackend from "./MemoryBackend.ts"
import * as Processor from "./Processor.ts"
import type { ProcessRegistry } from "./ProcessRegistry.ts"
import { type JobSet, QueueStore, type QueueStoreError } from "./QueueStore.ts"

/** Everything a test needs: memory stores, a client and the event bus. */
export const layer: Layer.Layer<JobClient.JobClient | QueueStore | ProcessRegistry | JobEvents.JobEvents> =
  JobClient.layer().pipe(Layer.provideMerge(Layer.merge(MemoryBackend.layer(), JobEvents.layer)))

/** The services `layer` provides. */
export type Services = JobClient.JobClient | QueueStore | ProcessRegistry | JobEvents.JobEvents

/**
 * Test kit settings: the handlers under test, and whether enqueues run them at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions<E, R> {
  /** Registration layers (`SendWelcome.toLayer(...)`, `JobRegistry.add(...)`), merged as you like. */
  readonly handlers: Layer.Layer<JobRegistry, E, R>
  /**
   * Inline mode: every enqueue made by the code under test runs the jobs that are due (and
   * the jobs they enqueue) before it returns. Jobs scheduled for later run on a later
   * enqueue or `drain`, once the clock has reached them. Default: fake mode (jobs wait for
   * `drain`).
   */
  readonly inline?: boolean | undefined
}

/**
 * `layer` plus the given handlers, built over it so they may enqueue jobs through the same
 * client and store.
 *
 * ```ts
 * it.effect("...", () => program.pipe(Effect.provide(JobsTest.layerWith({ handlers: Handlers }))))
 * it.effect("...", () => program.pipe(Effect.provide(JobsTest.layerWith({ handlers: Handlers, inline: true }))))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = <E = never, R = never>(
  options: LayerOptions<E, R>
): Layer.Layer<Services | JobRegistry, E, Exclude<R, Services>> => {
  const fake = options.handlers.pipe(Layer.provideMerge(layer))
  // provideMerge lets the inline client replace the fake one in the output; handlers keep
  // the fake client (the inline one needs the registry), and drain runs what they enqueue.
  return options.inline === true ? layerInline.pipe(Layer.provideMerge(fake)) : fake
}

/** What `drain` did. */
export interface DrainResult {
  readonly succeeded: number
  readonly retried: number
  readonly dead: number
  readonly discarded: number
  readonly requeued: number
  /** Ids in the order they ran. */
  readonly ran: ReadonlyArray<string>
}

const allQueues = (store: QueueStore["Service"]) =>
  Effect.map(store.stats, (stats) => stats.queues.filter((q) => !q.paused).map((q) => q.name))

/**
 * Runs every job that is due now, one at a time, until none is left (jobs enqueued by jobs
 * run too). Retries and scheduled jobs wait for the clock; `maxJobs` guards against a job
 * that re-enqueues itself forever.
 */
export const drain: (options?: {
  readonly maxJobs?: number
}) => Effect.Effect<DrainResult, QueueStoreError, QueueStore | JobRegistry> = Effect.fn("JobsTest.drain")(
  function* (options?: { readonly maxJobs?: number }) {
    const store = yield* QueueStore
    const registry = fromContext(yield* Effect.context<JobRegistry>())
    if (typeof registry === "string") return yield* Effect.die(new Error(`JobsTest: ${registry}`))
    const publish = yield* JobEvents.emitter
    // Middleware comes as layers (`Middleware.layer`), as it does to the worker.
    const context = yield* Effect.context<never>()
    const run = Processor.make({ store, registry, middleware: middlewareFromContext(context), publish })
    const maxJobs = options?.maxJobs ?? 100_000
    const counts = { succeeded: 0, retried: 0, dead: 0, discarded: 0, requeued: 0 }
    const ran: Array<string> = []
    while (ran.length < maxJobs) {
      // Promote before listing queues: a due job's queue may have no ready job yet, and
      // then it is not listed (claim would promote it, but not claim from it).
      yield* store.promote
      const queues = yield* allQueues(store)
      const [job] = yield* store.claim({ queues, limit: 1, owner: "JobsTest.drain", leaseMillis: 3_600_000 })
      if (job === undefined) break
      ran.push(job.id)
      const outcome = yield* Effect.orDie(run(job))
      // No `ackLater` here: a run acks on its own, never "acking".
      if (outcome !== "lost" && outcome !== "acking") counts[outcome]++
    }
    return { ...counts, ran }
  }
)

/** A decoded job waiting in the store. */
export interface EnqueuedJob<A> {
  readonly id: string
  readonly queue: string
  readonly payload: A
  readonly runAt: number
  readonly state: StoredJob["state"]
  readonly attempt: number
}

const pageAll = <E>(read: (offset: number) => Effect.Effect<{ jobs: ReadonlyArray<StoredJob>; total: number }, E>) =>
  Effect.gen(function* () {
    const all: Array<StoredJob> = []
    while (true) {
      const page = yield* read(all.length)
      all.push(...page.jobs)
      if (page.jobs.length === 0 || all.length >= page.total) return all
    }
  })

/** Every job of a set (scheduled, retry or dead). */
export const jobsIn = (set: JobSet): Effect.Effect<ReadonlyArray<StoredJob>, QueueStoreError, QueueStore> =>
  QueueStore.use((store) => pageAll((offset) => store.list(set, { offset, limit: 500 })))

/** The jobs of this definition that are waiting to run (ready or scheduled), payloads decoded. */
export const enqueued: <J extends Job.Any>(
  job: J
) => Effect.Effect<ReadonlyArray<EnqueuedJob<Job.Payload<J>>>, QueueStoreError, QueueStore> = Effect.fnUntraced(
  function* <J extends Job.Any>(job: J) {
    const store = yield* QueueStore
    const queues = (yield* store.stats).queues.map((q) => q.name)
    const ready: Array<StoredJob> = []
    for (const queue of queues)
      ready.push(...(yield* pageAll((offset) => store.listQueue(queue, { offset, limit: 500 }))))
    const waiting = [...ready, ...(yield* jobsIn("scheduled"))].filter((stored) => stored.name === job.name)
    const out: Array<EnqueuedJob<Job.Payload<J>>> = []
    for (const stored of waiting) {
      const payload = yield* Effect.orDie(job.codec.decode(stored.payload))
      out.push({
        id: stored.id,
        queue: stored.queue,
        payload: payload as Job.Payload<J>,
        runAt: stored.runAt,
        state: stored.state,
        attempt: stored.attempt
      })
    }
    return out
  }
)

/** Jobs in the dead set, newest first. */
export const dead: Effect.Effect<ReadonlyArray<StoredJob>, QueueStoreError, QueueStore> = jobsIn("dead")
/** Jobs waiting to retry, soonest first. */
export const retries: Effect.Effect<ReadonlyArray<StoredJob>, QueueStoreError, QueueStore> = jobsIn("retry")
/** Jobs scheduled for later, soonest first. */
export const scheduled: Effect.Effect<ReadonlyArray<StoredJob>, QueueStoreError, QueueStore> = jobsIn("scheduled")

/** One stored job by id. */
export const get = (id: string): Effect.Effect<Option.Option<StoredJob>, QueueStoreError, QueueStore> =>
  QueueStore.use((store) => store.get(id))

// Inline mode: the client drains right after each enqueue, so jobs (and the jobs they
// enqueue) have run when `enqueue` returns.
const layerInline: Layer.Layer<JobClient.JobClient, never, QueueStore | JobRegistry> = Layer.effect(
  JobClient.JobClient,
  Effect.gen(function* () {
    const client = yield* JobClient.make()
    const context = yield* Effect.context<QueueStore | JobRegistry>()
    const drainNow = drain().pipe(Effect.orDie, Effect.provideContext(context))
    return JobClient.JobClient.of({
      enqueue: (job, payload, options) => Effect.tap(client.enqueue(job, payload, options), () => drainNow),
      enqueueMany: (job, payloads, options) => Effect.tap(client.enqueueMany(job, payloads, options), () => drainNow)
    })
  })
)
