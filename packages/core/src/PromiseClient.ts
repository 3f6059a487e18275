/**
 * A promise facade for code that does not run Effect: an Express handler, a model
 * callback, a script.
 *
 * ```ts
 * const jobs = await PromiseClient.make(MemoryBackend.layer()) // or RedisBackend.layer({ url })
 * const id = await jobs.enqueue(SendWelcome, { userId: 1 }) // payload typed from the job
 * await jobs.close()
 * ```
 *
 * It runs a `JobClient` on a `ManagedRuntime` built from the layer you give (any layer
 * that provides a `QueueStore`), so payloads are validated exactly as in Effect code. A
 * promise rejects with the typed error itself (`InvalidPayload` with the field path in its
 * message, `PayloadTooLarge`, `InvalidEnqueueOptions`, `QueueStoreError`), never a wrapper.
 *
 * **Pipelining.** `enqueue` calls made together are written together: each call is
 * validated and encoded on its own, then waits for the end of the current tick, and every
 * call that reached that point in the same tick is written with one `store.enqueue` (at
 * most `batchSize` jobs per call, default 1,000). A bad payload therefore rejects only its
 * own promise; the rest of the batch is written. On Redis this turns 1,000 concurrent
 * enqueues into a handful of round trips instead of 1,000. Should a batched write fail
 * (the store is down), every call in that batch rejects with the store's error.
 *
 * To share an in-memory store with a worker running in another `ManagedRuntime` of the same
 * process, build both from the same layer value and pass the same `memoMap`.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import type * as Job from "./Job.ts"
import * as JobClient from "./JobClient.ts"
import type { EnqueueError } from "./JobError.ts"
import { type EnqueueResult, type NewJob, QueueStore, type QueueStoreError } from "./QueueStore.ts"

/** Facade settings. */
export interface PromiseClientOptions extends JobClient.ClientOptions {
  /** Most jobs written by one pipelined store call (default 1,000). */
  readonly batchSize?: number | undefined
  /** Share layers (an in-memory store) with other runtimes built on the same memo map. */
  readonly memoMap?: Layer.MemoMap | undefined
}

/** The promise facade. */
export interface PromiseClient {
  /** Validates and enqueues one job; resolves to its id (the existing one for a duplicate `id`). */
  readonly enqueue: <J extends Job.Any>(
    job: J,
    payload: Job.Payload<J>,
    options?: Job.EnqueueOptions
  ) => Promise<string>
  /** Validates the whole batch first, then writes it; resolves to the ids in order. */
  readonly enqueueMany: <J extends Job.Any>(
    job: J,
    payloads: Iterable<Job.Payload<J>>,
    options?: Omit<Job.EnqueueOptions, "id">
  ) => Promise<ReadonlyArray<string>>
  /** Waits for the enqueues already issued, then releases the runtime (store connections included). */
  readonly close: () => Promise<void>
}

/**
 * The rejection of calls made after `close()`.
 *
 * @since 0.1.0
 * @category errors
 */
export class PromiseClientClosed extends Schema.TaggedError<PromiseClientClosed>()("PromiseClientClosed", {}) {
  override get message(): string {
    return "PromiseClient is closed: enqueue before close(), or build a new client"
  }
}

/** The end of the current tick: after every microtask and every fiber step already queued. */
const nextTick: (f: () => void) => void =
  typeof setImmediate === "function" ? (f) => setImmediate(f) : (f) => setTimeout(f, 0)

interface Pending {
  readonly jobs: ReadonlyArray<NewJob>
  readonly resume: (effect: Effect.Effect<ReadonlyArray<EnqueueResult>, QueueStoreError>) => void
}

/**
 * Builds the facade over a layer providing a `QueueStore` (and optionally `JobEvents`), on a
 * runtime of its own that `close()` releases. Rejects with the layer's error if it cannot be
 * built (the runtime is then released).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = async <E>(
  layer: Layer.Layer<QueueStore, E>,
  options?: PromiseClientOptions
): Promise<PromiseClient> => {
  const runtime = ManagedRuntime.make(layer, { memoMap: options?.memoMap })
  try {
    return await build(runtime, options, () => runtime.dispose())
  } catch (error) {
    await runtime.dispose()
    throw error
  }
}

/**
 * Builds the facade on the app's own runtime (one that provides a `QueueStore`), so the
 * promise side shares the app's store connections, `JobEvents` and metrics instead of
 * opening its own. `close()` waits for the enqueues already issued and leaves the runtime
 * running: disposing it stays with its owner.
 *
 * ```ts
 * const runtime = ManagedRuntime.make(Layer.mergeAll(AppLayer, RedisBackend.layer({ url })))
 * const jobs = await PromiseClient.fromRuntime(runtime)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRuntime = <E>(
  runtime: ManagedRuntime.ManagedRuntime<QueueStore, E>,
  options?: Omit<PromiseClientOptions, "memoMap">
): Promise<PromiseClient> => build(runtime, options, () => Promise.resolve())

const build = async <E>(
  runtime: ManagedRuntime.ManagedRuntime<QueueStore, E>,
  options: PromiseClientOptions | undefined,
  release: () => Promise<void>
): Promise<PromiseClient> => {
  const batchSize = Math.max(1, options?.batchSize ?? 1000)

  const run = <A, Err>(effect: Effect.Effect<A, Err, QueueStore>): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      runtime.runCallback(effect, {
        onExit: (exit) => {
          if (Exit.isSuccess(exit)) return resolve(exit.value)
          const error = Cause.findErrorOption(exit.cause)
          reject(error._tag === "Some" ? error.value : Cause.squash(exit.cause))
        }
      })
    })

  const store = await run(
    Effect.gen(function* () {
      return yield* QueueStore
    })
  )

  // The batcher: single-job writes issued in the same tick are flushed as one store call.
  let pending: Array<Pending> = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    const batch = pending
    pending = []
    for (let start = 0; start < batch.length; ) {
      const group: Array<Pending> = []
      const jobs: Array<NewJob> = []
      while (start < batch.length && (group.length === 0 || jobs.length + batch[start]!.jobs.length <= batchSize)) {
        const entry = batch[start++]!
        group.push(entry)
        jobs.push(...entry.jobs)
      }
      runtime.runCallback(store.enqueue(jobs), {
        onExit: (exit) => {
          let offset = 0
          for (const entry of group) {
            const count = entry.jobs.length
            const from = offset
            offset += count
            entry.resume(
              Exit.isSuccess(exit)
                ? Effect.succeed(exit.value.slice(from, from + count))
                : Effect.failCause(exit.cause as Cause.Cause<QueueStoreError>) // the layer is built by now
            )
          }
        }
      })
    }
  }
  const batched = QueueStore.of({
    ...store,
    enqueue: (jobs) =>
      Effect.callback<ReadonlyArray<EnqueueResult>, QueueStoreError>((resume) => {
        pending.push({ jobs, resume })
        if (!scheduled) {
          scheduled = true
          nextTick(flush)
        }
      })
  })
  const client = await run(JobClient.make(options).pipe(Effect.provideService(QueueStore, batched)))

  let closed: Promise<void> | undefined
  const inFlight = new Set<Promise<unknown>>()
  const track = <A>(effect: Effect.Effect<A, EnqueueError | QueueStoreError, QueueStore>): Promise<A> => {
    if (closed !== undefined) return Promise.reject(new PromiseClientClosed())
    const promise = run(effect)
    inFlight.add(promise)
    const forget = () => inFlight.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  return {
    enqueue: (job, payload, opts) => track(Effect.map(client.enqueue(job, payload, opts), (result) => result.id)),
    enqueueMany: (job, payloads, opts) =>
      track(Effect.map(client.enqueueMany(job, payloads, opts), (results) => results.map((result) => result.id))),
    close: () => {
      closed ??= Promise.allSettled(inFlight).then(release)
      return closed
    }
  }
}
