/**
 * What each compared system provides to the child processes: a producer that performs a
 * `ProducerWork` its own idiomatic way, and a worker that calls `onJob` at the start of
 * every handler run.
 */
import type { Payload, ProducerWork, SystemName } from "../protocol.ts"

export interface Producer {
  /**
   * Performs the work; resolves with the number of jobs written. Steady work calls `replied`
   * with each single enqueue's issue time when its reply arrives.
   */
  readonly run: (work: ProducerWork, replied: (issuedAt: number) => void) => Promise<number>
  readonly close: () => Promise<void>
}

export interface WorkerOptions {
  readonly url: string
  readonly concurrency: number
  /** Called first thing in every handler run; `true` makes the run fail. */
  readonly onJob: (payload: Payload, attempt: number) => boolean
}

export interface RunningWorker {
  /** Starts claiming jobs. */
  readonly start: () => void
  /** Graceful shutdown. */
  readonly close: () => Promise<void>
}

export interface System {
  readonly name: SystemName
  /** A connected producer, scripts loaded. */
  readonly producer: (url: string) => Promise<Producer>
  /** A connected worker that does not claim yet. */
  readonly worker: (options: WorkerOptions) => Promise<RunningWorker>
}

/** Loads a system's driver (only the child that needs it imports it). */
export const load = async (name: SystemName): Promise<System> =>
  name === "effect-jobs" ? (await import("./effectJobs.ts")).system : (await import("./bullmq.ts")).system

/** The due time (whole ms) of job `i` of `count` spread evenly over `spreadMillis` from `first`. */
export const dueTime = (first: number, i: number, count: number, spreadMillis: number): number =>
  count <= 1 ? first : first + Math.round((spreadMillis * i) / (count - 1))
