/**
 * The queue store contract and its in-memory implementation.
 *
 * **Unstable**: this is the interface a store implements (the memory and Redis stores do);
 * it changes as features (locks, batches, cron) add operations. Apps use `JobClient`,
 * `JobWorker` and the test kit, not this contract.
 *
 * A `QueueStore` holds jobs in five places: ready queues (FIFO per queue), the scheduled
 * set (enqueued for later), the retry set (failed, waiting for their next attempt), leases
 * (claimed by a worker) and the dead set. Every operation is one atomic transition, so a
 * Redis implementation can make each one a single Lua script. Settlements (`ack`,
 * `retry`, `kill`, `discard`, `requeue`) are fenced by the lease token: a worker that lost
 * its lease cannot change a job that now belongs to someone else.
 *
 * Due times are judged by the store's clock (`Clock` here, so `TestClock` drives it;
 * Redis `TIME` in the Redis store). Callers pass delays, never their own "now".
 *
 * @stability unstable
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { makeMemoryQueueStore } from "./internal/memoryQueueStore.ts"
import {
  type AttemptError,
  type ClaimedJob,
  idProblem,
  type JobState,
  type Lease,
  type StoredJob,
  timeProblem
} from "./JobRecord.ts"

/** A job to write: the client has already validated and encoded the payload. */
export interface NewJob {
  /** 1-200 characters (`JobRecord.maxIdLength`). */
  readonly id: string
  readonly name: string
  readonly queue: string
  readonly payload: string
  /** Run this long after the store's now. */
  readonly delayMillis?: number | undefined
  /** Run at this epoch time; wins over `delayMillis`. */
  readonly runAtMillis?: number | undefined
  /**
   * `true` when the client generated the id (fresh random text no other job can hold), not
   * the caller: a store may then skip the work that keeps caller-chosen ids unique across
   * queues. Absent means the caller chose it.
   */
  readonly idGenerated?: boolean | undefined
  /**
   * The W3C `traceparent` of the enqueuing span (55 characters), kept with the job and handed
   * back on its record; absent when no tracer was installed. A store keeps it as given.
   */
  readonly trace?: string | undefined
}

/** What `enqueue` did with one job. `duplicate`: a job with that id already exists, nothing changed. */
export type EnqueueOutcome = "enqueued" | "scheduled" | "duplicate"

/** The result of enqueueing one job. */
export interface EnqueueResult {
  readonly id: string
  readonly outcome: EnqueueOutcome
}

/** The sets an admin can page through and act on. */
export type JobSet = "scheduled" | "retry" | "dead"

/** One page of a set or queue. */
export interface JobPage {
  readonly jobs: ReadonlyArray<StoredJob>
  readonly total: number
}

/** Per-queue numbers. */
export interface QueueStats {
  readonly name: string
  readonly size: number
  readonly paused: boolean
  /** Age of the oldest ready job in milliseconds (0 when empty). */
  readonly latencyMillis: number
}

/** Store-wide numbers. */
export interface StoreStats {
  readonly processed: number
  readonly failed: number
  readonly queues: ReadonlyArray<QueueStats>
  readonly scheduled: number
  readonly retry: number
  readonly dead: number
  readonly leased: number
}

/** Bounds on the dead set: it is trimmed oldest first past either. */
export interface DeadSetLimits {
  readonly maxJobs: number
  readonly maxAge: Duration.Duration
}

/** Sidekiq's dead-set defaults: 10,000 jobs, 180 days. */
export const defaultDeadSetLimits: DeadSetLimits = {
  maxJobs: 10_000,
  maxAge: Duration.days(180)
}

/**
 * An entry a store set aside instead of running or deleting it: its record is unreadable, or
 * a newer version of effect-jobs wrote it. The stored text is kept as found; the jobs behind
 * it run on. An admin lists, re-enqueues or deletes these (`effect-jobs admin quarantine`).
 */
export interface QuarantinedEntry {
  readonly id: string
  readonly queue: string
  /** Why it was set aside. */
  readonly reason: string
  /** When, in epoch milliseconds on the store's clock. */
  readonly quarantinedAt: number
  /** The job's stored record, payload and error lines as found (`undefined` where absent). */
  readonly record: string | undefined
  readonly payload: string | undefined
  readonly errors: string | undefined
}

/** One page of the quarantine, oldest first. */
export interface QuarantinePage {
  readonly entries: ReadonlyArray<QuarantinedEntry>
  readonly total: number
}

/**
 * Raised when the store cannot be reached or answers something unexpected. A failed enqueue
 * says what it may have written: a write whose reply was lost may have happened, so
 * `unconfirmed` names those jobs' ids (enqueue them again under the same ids: a job that was
 * written is then a `duplicate`, never a second job), and `written` holds what earlier calls of
 * the same batch (`enqueueMany`'s chunks) did write.
 */
export class QueueStoreError extends Schema.TaggedError<QueueStoreError>()("QueueStoreError", {
  message: Schema.String,
  retryable: Schema.Boolean,
  cause: Schema.optional(Schema.Defect()),
  unconfirmed: Schema.optional(Schema.Array(Schema.String)),
  written: Schema.optional(
    Schema.Array(Schema.Struct({ id: Schema.String, outcome: Schema.Literals(["enqueued", "scheduled", "duplicate"]) }))
  )
}) {}

/**
 * The error of an enqueue call that may have written `jobs` (a retryable failure: the reply
 * may have been lost after the store applied it), naming their ids; other errors unchanged.
 */
export const mayHaveWritten = (
  error: QueueStoreError,
  jobs: ReadonlyArray<{ readonly id: string }>
): QueueStoreError =>
  !error.retryable || jobs.length === 0
    ? error
    : new QueueStoreError({
        message: `${error.message}; ${jobs.length} job(s) may have been written: enqueue them again under the ids in \`unconfirmed\` (a written one is then a duplicate)`,
        retryable: true,
        cause: error.cause,
        unconfirmed: [...(error.unconfirmed ?? []), ...jobs.map((job) => job.id)],
        written: error.written
      })

/** What a claim asks for. */
export interface ClaimOptions {
  /** Queues in the order to take from. */
  readonly queues: ReadonlyArray<string>
  /** Most jobs to lease. */
  readonly limit: number
  /** The claiming process. */
  readonly owner: string
  readonly leaseMillis: number
}

/** The reply of `ackAndClaim`. */
export interface AckAndClaimResult {
  /**
   * Per ack, in order: whether its lease was still held (and the job completed); `undefined`
   * when this call could not settle it (a store that claims in several steps failed part way),
   * so the caller sends it again with `ack`.
   */
  readonly acked: ReadonlyArray<boolean | undefined>
  readonly jobs: ReadonlyArray<ClaimedJob>
}

/** The queue store service. */
export class QueueStore extends Context.Service<
  QueueStore,
  {
    /**
     * Writes jobs; an id that already exists is left alone and reported as `duplicate`. A batch
     * holding an id outside 1-200 characters fails whole, before anything is written.
     */
    readonly enqueue: (jobs: ReadonlyArray<NewJob>) => Effect.Effect<ReadonlyArray<EnqueueResult>, QueueStoreError>
    /**
     * Promotes due scheduled and retry jobs, then takes up to `limit` ready jobs from the
     * queues in the given order (skipping paused ones) as leases owned by `owner`, counting
     * one attempt each.
     */
    readonly claim: (options: ClaimOptions) => Effect.Effect<ReadonlyArray<ClaimedJob>, QueueStoreError>
    /**
     * `ack` then `claim` in one step: a worker completes the jobs that just finished and
     * refills their slots in as few round trips as the store allows (on Redis, one script
     * call per queue). `acked[i]` says whether `acks[i]` was still held, as `ack` counts it.
     */
    readonly ackAndClaim: (
      acks: ReadonlyArray<Lease>,
      options: ClaimOptions
    ) => Effect.Effect<AckAndClaimResult, QueueStoreError>
    /** Pushes the deadlines of these leases out; returns the ids whose lease is no longer held. */
    readonly extendLeases: (
      leases: ReadonlyArray<Lease>,
      leaseMillis: number
    ) => Effect.Effect<ReadonlyArray<string>, QueueStoreError>
    /** Completes jobs (batched); returns how many leases were still held. */
    readonly ack: (leases: ReadonlyArray<Lease>) => Effect.Effect<number, QueueStoreError>
    /**
     * Moves a claimed job to the retry set, due after `delayMillis`. With
     * `countAttempt: false` (`RetryIn`) the claim's attempt is given back.
     */
    readonly retry: (
      lease: Lease,
      options: {
        readonly delayMillis: number
        readonly error?: AttemptError | undefined
        readonly countAttempt: boolean
      }
    ) => Effect.Effect<boolean, QueueStoreError>
    /** Moves a claimed job to the dead set with a reason; trims the dead set to its limits. */
    readonly kill: (
      lease: Lease,
      options: {
        readonly reason: string
        readonly error?: AttemptError | undefined
      }
    ) => Effect.Effect<boolean, QueueStoreError>
    /** Drops a claimed job on purpose (`Job.Discard`). */
    readonly discard: (lease: Lease) => Effect.Effect<boolean, QueueStoreError>
    /** Puts a claimed job back at the head of its queue without counting the attempt (interruption). */
    readonly requeue: (lease: Lease) => Effect.Effect<boolean, QueueStoreError>
    /** Puts jobs whose lease ran out back at the head of their queue (the attempt stays counted). */
    readonly reap: Effect.Effect<number, QueueStoreError>
    /** Moves due scheduled and retry jobs to their ready queues. */
    readonly promote: Effect.Effect<number, QueueStoreError>
    /**
     * Waits until there may be work for these queues: a new ready job, the next due time,
     * a resumed queue, or `maxWaitMillis`, whichever comes first.
     */
    readonly awaitWork: (queues: ReadonlyArray<string>, maxWaitMillis: number) => Effect.Effect<void, QueueStoreError>
    readonly pause: (queue: string) => Effect.Effect<void, QueueStoreError>
    readonly resume: (queue: string) => Effect.Effect<void, QueueStoreError>
    readonly stats: Effect.Effect<StoreStats, QueueStoreError>
    /** One job wherever it is. */
    readonly get: (id: string) => Effect.Effect<Option.Option<StoredJob>, QueueStoreError>
    /** A page of ready jobs of one queue, oldest first. */
    readonly listQueue: (
      queue: string,
      page: { readonly offset: number; readonly limit: number }
    ) => Effect.Effect<JobPage, QueueStoreError>
    /** A page of a set: scheduled and retry by due time, dead newest first. */
    readonly list: (
      set: JobSet,
      page: { readonly offset: number; readonly limit: number }
    ) => Effect.Effect<JobPage, QueueStoreError>
    /** Moves jobs of a set to the tail of their ready queue now; dead jobs get their attempts reset. */
    readonly retryNow: (set: JobSet, ids: ReadonlyArray<string>) => Effect.Effect<number, QueueStoreError>
    /** Deletes jobs from a set; returns how many were there. */
    readonly remove: (set: JobSet, ids: ReadonlyArray<string>) => Effect.Effect<number, QueueStoreError>
    /** A page of the entries set aside as unreadable or of a newer format, every queue's, oldest first. */
    readonly listQuarantine: (page: {
      readonly offset: number
      readonly limit: number
    }) => Effect.Effect<QuarantinePage, QueueStoreError>
    /**
     * Puts quarantined entries back at the tail of their queue: a newer format's record as it
     * is (for a newer worker), an unreadable one as a fresh record (attempt 0) when its job
     * name can be read. Returns how many went back.
     */
    readonly requeueQuarantined: (ids: ReadonlyArray<string>) => Effect.Effect<number, QueueStoreError>
    /** Deletes quarantined entries with everything stored for them; returns how many were there. */
    readonly removeQuarantined: (ids: ReadonlyArray<string>) => Effect.Effect<number, QueueStoreError>
  }
>()("@effect-jobs/core/QueueStore") {}

/**
 * Retention of completed jobs. Absent (the default), a completed job is deleted at `ack` and
 * only the `processed` counter remains. Given, `ack` keeps the job (state `completed`,
 * readable by `get`, and its id still taken, so enqueueing it again is a `duplicate`) in a
 * per-queue completed set, trimmed at each ack to the newest `keepLast` jobs and to those
 * completed within `keepFor` (either or both; with neither, completed jobs are kept forever).
 */
export interface CompletedRetention {
  readonly keepLast?: number | undefined
  readonly keepFor?: Duration.Input | undefined
}

/** Retention limits as numbers: `keepLast` jobs, `keepForMillis` ms (`Infinity` = no limit). */
export interface CompletedLimits {
  readonly keepLast: number
  readonly keepForMillis: number
}

/** The limits of a retention option, or `undefined` when completed jobs are deleted. */
export const completedLimits = (retention: CompletedRetention | undefined): CompletedLimits | undefined => {
  if (retention === undefined) return undefined
  const keepLast = retention.keepLast === undefined ? Infinity : Math.max(0, Math.floor(retention.keepLast))
  const keepForMillis = retention.keepFor === undefined ? Infinity : Math.max(0, Duration.toMillis(retention.keepFor))
  return { keepLast: Number.isNaN(keepLast) ? Infinity : keepLast, keepForMillis }
}

/** Options of the in-memory store. */
export interface MemoryOptions {
  readonly deadSet?: Partial<DeadSetLimits> | undefined
  /** Keep completed jobs for a while (default: delete them at ack). */
  readonly completed?: CompletedRetention | undefined
}

/**
 * Why a store refuses this batch of jobs, or `undefined`: an id no store accepts
 * (`JobRecord.idProblem`), or a due time past `JobRecord.maxRunAtMillis` or a delay past
 * `JobRecord.maxDelayMillis` (`JobRecord.timeProblem`). Every store checks before writing, so nothing of such a batch is
 * written; the client refuses such ids earlier, with `InvalidEnqueueOptions`.
 */
export const refusedBatch = (jobs: ReadonlyArray<NewJob>): QueueStoreError | undefined => {
  for (const job of jobs) {
    const problem = idProblem(job.id) ?? timeProblem(job)
    if (problem !== undefined) {
      return new QueueStoreError({
        message: `enqueue ${job.name}: ${problem}; nothing of this batch was written`,
        retryable: false
      })
    }
  }
  return undefined
}

/** Builds an in-memory store whose times come from `Clock`. */
export const makeMemory = (options?: MemoryOptions): Effect.Effect<QueueStore["Service"]> =>
  makeMemoryQueueStore(
    {
      maxJobs: options?.deadSet?.maxJobs ?? defaultDeadSetLimits.maxJobs,
      maxAge: options?.deadSet?.maxAge ?? defaultDeadSetLimits.maxAge
    },
    completedLimits(options?.completed)
  )

/** An in-memory store: one process, lost on exit. The embedded default and the test store. */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<QueueStore> =>
  Layer.effect(QueueStore, makeMemory(options))

/** Whether a state belongs to an admin set. */
export const isJobSet = (state: JobState): state is JobSet =>
  state === "scheduled" || state === "retry" || state === "dead"
