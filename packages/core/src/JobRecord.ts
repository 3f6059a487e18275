/**
 * The stored form of a job: what a `QueueStore` keeps and hands back.
 *
 * The payload stays the JSON text the client produced, so no store ever decodes and
 * re-encodes it. Times are epoch milliseconds on the store's own clock.
 */

/** One failed attempt, kept on the job so the retry and dead sets can show its history. */
export interface AttemptError {
  /** The attempt that failed (1-based). */
  readonly attempt: number
  /** The error's `_tag` (or `Defect`, `Timeout`) for grouping and search. */
  readonly tag: string
  readonly message: string
  /** `Cause.pretty` of the failure, stack included. */
  readonly cause: string
  /** When it failed, in epoch milliseconds. */
  readonly at: number
}

/**
 * Where a job sits in the store. `completed`: acked and kept for a while, only when the store
 * retains completed jobs (its `completed` option); by default a completed job is deleted.
 */
export type JobState = "ready" | "scheduled" | "retry" | "leased" | "dead" | "completed"

/** A job as the store holds it. */
export interface JobRecord {
  readonly id: string
  readonly name: string
  readonly queue: string
  /** Encoded JSON text of the payload, exactly as the client wrote it. */
  readonly payload: string
  /** When the job was first enqueued. */
  readonly enqueuedAt: number
  /** When the job became (or becomes) due: enqueue time, schedule time or retry time. */
  readonly runAt: number
  /** Attempts counted so far; a claim counts one, an interruption gives it back. */
  readonly attempt: number
  /** Failed attempts, oldest first (the newest `maxErrorsKept` are kept). */
  readonly errors: ReadonlyArray<AttemptError>
  /** Why the job is dead, when it is. */
  readonly deadReason?: string | undefined
  /** When the job died, when it did. */
  readonly diedAt?: number | undefined
  /**
   * The W3C `traceparent` of the span that enqueued the job, when a tracer was installed there:
   * the worker's spans for the job join that trace (see `internal/jobTracing.ts`).
   */
  readonly trace?: string | undefined
}

/** A job that is in the store, with where it is. */
export interface StoredJob extends JobRecord {
  readonly state: JobState
}

/** The right to settle one claimed job; the token fences out stale owners. */
export interface Lease {
  readonly id: string
  readonly token: string
}

/** A job handed to a worker by `claim`: the record plus the lease it runs under. */
export interface ClaimedJob extends JobRecord {
  readonly token: string
  /** When the lease runs out unless extended. */
  readonly leaseDeadline: number
  /** When it was claimed, for the queue-latency metric. */
  readonly claimedAt: number
}

/**
 * The longest job id a store accepts. Ids are store keys' fields on every transition, and the
 * Redis store keeps a longer entry of its own in a queue's lease keys, which no id may equal.
 */
export const maxIdLength = 200

/** The problem with a job id, or `undefined` when a store accepts it. */
export const idProblem = (id: string): string | undefined => {
  const expected = `job id must be 1-${maxIdLength} characters`
  if (id.length === 0) return `${expected}, got an empty id`
  if (id.length > maxIdLength) {
    return `${expected}, got ${id.length} characters (for a longer natural key, use a hash of it as the id)`
  }
  return undefined
}

/** How many failed attempts a record keeps (older ones are dropped first). */
export const maxErrorsKept = 25
