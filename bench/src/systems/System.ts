/**
 * What each compared system provides to the child processes: a producer that performs a
 * `ProducerWork` its own idiomatic way, and a worker that calls `onJob` at the start of
 * every handler run.
 *
 * A system whose jobs are written and handled in another process (Sidekiq, in Ruby) measures
 * there: its producer adds `usage` and its worker `report`, which replace what the Node
 * child would measure of itself.
 */
import type { Payload, ProcessUsage, ProducerWork, SystemName, WorkerResult } from "../protocol.ts"

export interface Producer {
  /**
   * Performs the work; resolves with the number of jobs written. Steady work calls `replied`
   * with each single enqueue's issue time when its reply arrives (or with both times, when
   * another process measured them).
   */
  readonly run: (work: ProducerWork, replied: (issuedAt: number, repliedAt?: number) => void) => Promise<number>
  readonly close: () => Promise<void>
  /** Work done in another process: that process's usage over the last `run`. */
  readonly usage?: () => ProcessUsage
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
  /**
   * Handlers run in another process (`onJob` is never called): what it counted and used from
   * `start` until `close` began (shutdown excluded; runs finished during shutdown counted).
   * Read after `close`.
   */
  readonly report?: () => WorkerReport
}

/** A worker process's own account, as in `WorkerResult` but with raw samples (ms). */
export interface WorkerReport extends ProcessUsage, Pick<WorkerResult, "runs" | "firstRuns"> {
  readonly pickup: ReadonlyArray<number>
  readonly lateness: ReadonlyArray<number>
}

export interface System {
  readonly name: SystemName
  /** A connected producer, scripts loaded, for `work` (which it may size its connections by). */
  readonly producer: (url: string, work: ProducerWork) => Promise<Producer>
  /** A connected worker that does not claim yet. */
  readonly worker: (options: WorkerOptions) => Promise<RunningWorker>
}

/** Loads a system's driver (only the child that needs it imports it). */
export const load = async (name: SystemName): Promise<System> => {
  switch (name) {
    case "effect-jobs":
      return (await import("./effectJobs.ts")).system
    case "bullmq":
      return (await import("./bullmq.ts")).system
    case "sidekiq":
      return (await import("./sidekiq.ts")).system
  }
}

/** The due time (whole ms) of job `i` of `count` spread evenly over `spreadMillis` from `first`. */
export const dueTime = (first: number, i: number, count: number, spreadMillis: number): number =>
  count <= 1 ? first : first + Math.round((spreadMillis * i) / (count - 1))
