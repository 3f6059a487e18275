/**
 * The registry of live worker processes: who is running, where, on which queues, doing what.
 *
 * **Unstable**: this is the interface a store implements (the memory and Redis stores do);
 * it changes as features (locks, batches, cron) add operations. Apps use `JobClient`,
 * `JobWorker` and the test kit, not this contract.
 *
 * Each worker writes its entry on a heartbeat with a time to live; an entry that is not
 * refreshed (the process died) disappears by itself. Dashboards and `stats` read it.
 *
 * @stability unstable
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { WeightedQueue } from "./QueueSelection.ts"
import type { QueueStoreError } from "./QueueStore.ts"

/** A job a process is running. */
export interface RunningJob {
  readonly id: string
  readonly name: string
  readonly queue: string
  readonly attempt: number
  /** Epoch milliseconds. */
  readonly startedAt: number
}

/** One worker process as it last reported itself. */
export interface ProcessInfo {
  readonly id: string
  readonly hostname: string
  readonly pid: number
  readonly queues: ReadonlyArray<WeightedQueue>
  readonly strict: boolean
  readonly concurrency: number
  readonly startedAt: number
  /** True once the process stopped claiming (shutting down or told to go quiet). */
  readonly quiet: boolean
  readonly running: ReadonlyArray<RunningJob>
  /** When this entry was written. */
  readonly beatAt: number
}

/** The process registry service. */
export class ProcessRegistry extends Context.Service<
  ProcessRegistry,
  {
    /** Writes or refreshes a process entry that expires after `ttlMillis` unless refreshed. */
    readonly heartbeat: (info: ProcessInfo, ttlMillis: number) => Effect.Effect<void, QueueStoreError>
    /** Removes an entry (clean shutdown). */
    readonly remove: (id: string) => Effect.Effect<void, QueueStoreError>
    /** The live processes, oldest first. */
    readonly list: Effect.Effect<ReadonlyArray<ProcessInfo>, QueueStoreError>
  }
>()("@effect-jobs/core/ProcessRegistry") {}

/** An in-process registry on `Clock`. */
export const makeMemory: Effect.Effect<ProcessRegistry["Service"]> = Effect.gen(function* () {
  const clock = yield* Clock.Clock
  const entries = new Map<string, { readonly info: ProcessInfo; readonly expiresAt: number }>()
  return ProcessRegistry.of({
    heartbeat: (info, ttlMillis) =>
      Effect.sync(() => void entries.set(info.id, { info, expiresAt: clock.currentTimeMillisUnsafe() + ttlMillis })),
    remove: (id) => Effect.sync(() => void entries.delete(id)),
    list: Effect.sync(() => {
      const now = clock.currentTimeMillisUnsafe()
      const live: Array<ProcessInfo> = []
      for (const [id, entry] of entries) {
        if (entry.expiresAt <= now) entries.delete(id)
        else live.push(entry.info)
      }
      return live.sort((a, b) => a.startedAt - b.startedAt)
    })
  })
})

/** The in-memory registry as a layer. */
export const layerMemory: Layer.Layer<ProcessRegistry> = Layer.effect(ProcessRegistry, makeMemory)
