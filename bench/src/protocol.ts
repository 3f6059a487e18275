/**
 * What the harness and its child processes say to each other over the IPC channel.
 *
 * Every child starts, connects, sends `ready` and waits for `go`, so connecting, loading
 * scripts and importing modules stay out of every measurement. A producer sends `result`
 * when its task is done; a worker runs until `stop`, shuts down gracefully, then sends
 * `result`.
 */

/** The systems compared. */
export type SystemName = "effect-jobs" | "bullmq" | "sidekiq"

/** Every system, in table order (Sidekiq runs only where Ruby with the sidekiq gem is installed). */
export const systems: ReadonlyArray<SystemName> = ["effect-jobs", "bullmq", "sidekiq"]

/** Shown in tables. */
export const systemLabel: Record<SystemName, string> = {
  "effect-jobs": "effect-jobs",
  bullmq: "BullMQ",
  sidekiq: "Sidekiq"
}

/** The queue every scenario uses. */
export const queueName = "bench"

/**
 * The payload of every benchmark job: `t` the enqueue time and `d` the due time (epoch ms
 * with sub-ms precision, `performance.timeOrigin + performance.now()`; `d` is 0 when the job
 * is not scheduled), `f` 1 when the handler must fail its first attempt.
 */
export interface Payload {
  readonly t: number
  readonly d: number
  readonly f: number
}

/** Which definition a job is written with: `failOnce` has a 1 ms retry delay and one retry. */
export type JobKind = "noop" | "failOnce"

/** What a producer does after `go`. */
export type ProducerWork =
  /** `count` enqueues, each awaited before the next. */
  | { readonly kind: "sequential"; readonly count: number }
  /** `count` single enqueues with `inFlight` outstanding at all times. */
  | { readonly kind: "concurrent"; readonly count: number; readonly inFlight: number }
  /** `count` jobs in bulk calls of `chunk`, one after another. */
  | { readonly kind: "bulk"; readonly count: number; readonly chunk: number; readonly job: JobKind }
  /** Single enqueues at a steady `rate` per second for `seconds`, not waiting for replies. */
  | { readonly kind: "steady"; readonly rate: number; readonly seconds: number }
  /** `count` jobs due `leadMillis` from now, spread evenly over `spreadMillis`; `inFlight` outstanding. */
  | {
      readonly kind: "scheduled"
      readonly count: number
      readonly leadMillis: number
      readonly spreadMillis: number
      readonly inFlight: number
    }

export interface ProducerTask {
  readonly system: SystemName
  readonly url: string
  readonly work: ProducerWork
}

export interface WorkerTask {
  readonly system: SystemName
  readonly url: string
  readonly concurrency: number
  /** Start claiming as soon as connected, without waiting for `go`, and report the first job (start-up row). */
  readonly startAtOnce?: boolean | undefined
}

/** CPU seconds (user + system) and memory over the measured part of a child's life (`go` to its result or `stop`). */
export interface ProcessUsage {
  readonly cpuSeconds: number
  /** The system (kernel) part of `cpuSeconds`. */
  readonly cpuSystemSeconds: number
  /** Highest RSS sampled every 20 ms between `go` and the result, bytes. */
  readonly peakRssBytes: number
  /** RSS at `go`, bytes. */
  readonly startRssBytes: number
  /** `process.resourceUsage().maxRSS` at the end (whole life, includes startup), bytes. */
  readonly maxRssBytes: number
}

export interface ProducerResult extends ProcessUsage {
  readonly type: "result"
  readonly written: number
  /** From `go` to the last reply, ms. */
  readonly millis: number
  /** Jobs per second the producer actually reached. */
  readonly rate: number
  /** Issue to reply of each single enqueue, ms (steady work only; empty otherwise). */
  readonly enqueueLatency: Distribution
}

/** Percentiles of a sample, ms. */
export interface Distribution {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface WorkerResult extends ProcessUsage {
  readonly type: "result"
  /** Handler runs, all attempts. */
  readonly runs: number
  /** Handler runs of first attempts. */
  readonly firstRuns: number
  /** Handler start minus enqueue time, first attempts only. */
  readonly pickup: Distribution
  /** Handler start minus due time, first attempts of scheduled jobs only. */
  readonly lateness: Distribution
  /** V8 heap in use at `stop`, bytes. */
  readonly heapUsedBytes: number
  /** V8 heap in use after a full GC at `stop` (NaN without `--expose-gc`), bytes: what the worker retains. */
  readonly heapAfterGcBytes: number
}

/** A worker process's first handler run (start-up row): when, and what the process had used by then. */
export interface FirstJob {
  readonly type: "first"
  /** Wall-clock time of the handler's start (`nowMillis`). */
  readonly at: number
  /** CPU seconds (user + system) of the whole process so far, start-up included. */
  readonly cpuSeconds: number
  /** RSS at that moment, bytes. */
  readonly rssBytes: number
}

/** Measures the first job of this process; `at` is taken by the caller first thing in the handler. */
export const firstJob = (at: number): FirstJob => {
  const cpu = process.cpuUsage()
  return { type: "first", at, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() }
}

export type ChildMessage = { readonly type: "ready" } | ProducerResult | WorkerResult | FirstJob

export type ParentMessage = { readonly type: "go" } | { readonly type: "stop" }

/** Wall-clock time with sub-millisecond precision; comparable across processes on one machine. */
export const nowMillis = (): number => performance.timeOrigin + performance.now()
