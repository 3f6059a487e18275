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
  /**
   * This run's fencing value: strictly greater than that of every earlier run of this job id
   * in its queue, whatever happened between them (a requeue, `RetryIn`, a retry from the dead
   * set; `attempt` goes back in those cases, so two runs can share an attempt number). A run
   * whose lease lapsed may still be running while a later run starts: a downstream write that
   * stores the highest fence it has seen per job id and refuses lower ones keeps the stale run
   * from overwriting the later run's work.
   */
  readonly fence: number
  /**
   * The definition's annotations (`Job.make(…, { annotations })`, `.annotate(key, value)`):
   * typed settings that middleware reads with `Context.getOption(job.annotations, Key)`.
   */
  readonly annotations: Context.Context<never>
}

/** The running job, provided to every handler. */
export class CurrentJob extends Context.Service<CurrentJob, JobInfo>()("@effect-jobs/core/CurrentJob") {}
