/**
 * The job a fiber is running: available to handlers, middleware and anything they call,
 * for logging, tracing and idempotency keys.
 */
import * as Context from "effect/Context"

/** What a running job knows about itself. */
export interface JobInfo {
  readonly id: string
  readonly name: string
  readonly queue: string
  /** This attempt's number, 1-based. */
  readonly attempt: number
  /** Retries the job's policy allows after the first attempt. */
  readonly maxRetries: number
  /** When the job was first enqueued (epoch milliseconds). */
  readonly enqueuedAt: number
}

/** The running job, provided to every handler. */
export class CurrentJob extends Context.Service<CurrentJob, JobInfo>()("@effect-jobs/core/CurrentJob") {}
