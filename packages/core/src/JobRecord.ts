/**
 * The stored form of a job: what a `QueueStore` keeps and hands back.
 *
 * The payload stays the JSON text the client produced, so no store ever decodes and
 * re-encodes it. Times are epoch milliseconds on the store's own clock. What a store keeps of
 * errors and dead reasons is bounded in bytes (`bound*` below): a cut is marked in the text.
 */
import { truncateUtf8, utf8Length } from "./internal/bounded.ts"

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
  /**
   * Failed attempts, oldest first: the newest `maxErrorsKept`, within `maxErrorHistoryBytes`.
   * When older ones were dropped, the first entry says how many (tag `ErrorsDropped`).
   */
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
  /**
   * This run's fencing value: strictly greater than that of every earlier run of the same job
   * id in its queue (requeues, `RetryIn` and retries from the dead set included), so a resource
   * the handler writes to can refuse a stale run's write (see `JobInfo.fence`).
   */
  readonly fence: number
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

/**
 * The latest due time a store keeps exactly, 2200-01-01T00:00:00Z: the Redis store orders due
 * times as `millis × 1024` in a double, exact below 2^53 (until the year 2248). Later times
 * are refused, never moved.
 */
export const maxRunAtMillis = Date.UTC(2200, 0, 1)

/** The longest delay a store accepts: 100 years (so a delay from any time before 2100 stays exact). */
export const maxDelayMillis = 3_155_760_000_000

/** The problem with a due time or delay, or `undefined` when every store keeps it exactly. */
export const timeProblem = (timing: {
  readonly delayMillis?: number | undefined
  readonly runAtMillis?: number | undefined
}): string | undefined => {
  const { delayMillis, runAtMillis } = timing
  if (runAtMillis !== undefined && !(runAtMillis <= maxRunAtMillis)) {
    const at = Number.isFinite(runAtMillis) ? new Date(runAtMillis).toISOString() : String(runAtMillis)
    return `run time ${at} is after ${new Date(maxRunAtMillis).toISOString()}, the latest time a store keeps exactly`
  }
  if (delayMillis !== undefined && !(delayMillis <= maxDelayMillis)) {
    return `delay of ${delayMillis} ms is over ${maxDelayMillis} ms (100 years), the longest a store accepts`
  }
  return undefined
}

/** A retry delay within the bounds (a longer `RetryIn` waits 100 years). */
export const clampDelay = (delayMillis: number): number =>
  Number.isNaN(delayMillis) ? 0 : Math.min(Math.max(0, delayMillis), maxDelayMillis)

/** How many failed attempts a record keeps (older ones are dropped first). */
export const maxErrorsKept = 25

/** Most UTF-8 bytes of an attempt error's message a store keeps (longer ones are cut, marked). */
export const maxErrorMessageBytes = 1024

/** Most UTF-8 bytes of an attempt error's cause (its rendered stack) a store keeps. */
export const maxErrorCauseBytes = 4096

/** Most UTF-8 bytes of an attempt error's tag a store keeps. */
export const maxErrorTagBytes = 128

/**
 * Most bytes of a job's whole error history (its attempt errors as JSON, one per line): older
 * attempts are dropped first, and the newest one is always kept.
 */
export const maxErrorHistoryBytes = 32 * 1024

/** Most UTF-8 bytes of a dead job's reason a store keeps (longer ones are cut, marked). */
export const maxDeadReasonBytes = 1024

/** The tag of the history entry that counts dropped older attempts. */
export const errorsDroppedTag = "ErrorsDropped"

/** An attempt error cut to the byte bounds a store keeps. */
export const boundAttemptError = (error: AttemptError): AttemptError => {
  const tag = truncateUtf8(error.tag, maxErrorTagBytes)
  const message = truncateUtf8(error.message, maxErrorMessageBytes)
  const cause = truncateUtf8(error.cause, maxErrorCauseBytes)
  return tag === error.tag && message === error.message && cause === error.cause
    ? error
    : { attempt: error.attempt, tag, message, cause, at: error.at }
}

/** A dead reason cut to `maxDeadReasonBytes`. */
export const boundReason = (reason: string): string => truncateUtf8(reason, maxDeadReasonBytes)

/**
 * The history entry saying `dropped` older attempts were dropped. The Redis store writes the
 * same text (`lua/includes/errors.lua`): `{"tag":"ErrorsDropped","dropped":N,...}`.
 */
export const errorsDropped = (dropped: number): AttemptError => ({
  attempt: 0,
  tag: errorsDroppedTag,
  message: `${dropped} older failed attempt(s) dropped: a job keeps its newest ${maxErrorsKept}, within ${maxErrorHistoryBytes} bytes`,
  cause: "",
  at: 0
})

/** Bytes an attempt error takes in a history (its JSON text and a newline). */
const historyBytes = (error: AttemptError): number => utf8Length(JSON.stringify(error)) + 1

/** Room kept for the `ErrorsDropped` entry when trimming a history. */
const droppedEntryBytes = 256

/**
 * Appends `error` (bounded) to a history and drops the oldest attempts past `maxErrorsKept`
 * or `maxErrorHistoryBytes`; the first entry then counts every attempt dropped so far.
 */
export const appendToHistory = (history: ReadonlyArray<AttemptError>, error: AttemptError): Array<AttemptError> => {
  let dropped = 0
  let kept = history.slice()
  if (kept[0]?.tag === errorsDroppedTag) {
    dropped = Number(/^(\d+)/.exec(kept[0].message)?.[1] ?? 0)
    kept = kept.slice(1)
  }
  kept.push(boundAttemptError(error))
  let bytes = 0
  for (const entry of kept) bytes += historyBytes(entry)
  let first = 0
  while (
    kept.length - first > 1 &&
    (kept.length - first > maxErrorsKept || bytes + (dropped > 0 ? droppedEntryBytes : 0) > maxErrorHistoryBytes)
  ) {
    bytes -= historyBytes(kept[first]!)
    first++
    dropped++
  }
  kept = kept.slice(first)
  return dropped > 0 ? [errorsDropped(dropped), ...kept] : kept
}
