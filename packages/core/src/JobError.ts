/**
 * The errors of effect-jobs that users see.
 *
 * Control signals a handler fails with to steer what happens to its job (`Unrecoverable`,
 * `Discard`, `RetryIn`), and the typed refusals of the client (`InvalidPayload`,
 * `PayloadTooLarge`, `InvalidEnqueueOptions`).
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/** Fail a handler with this to send the job to the dead set at once, skipping retries. */
export class Unrecoverable extends Schema.TaggedError<Unrecoverable>()("Unrecoverable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** Fail a handler with this to drop the job: it is neither retried nor kept as dead. */
export class Discard extends Schema.TaggedError<Discard>()("Discard", {
  reason: Schema.optional(Schema.String)
}) {}

/**
 * Fail a handler with this to run the job again after `delay` without counting a failed
 * attempt: a rate limit, a busy lock, an upstream asking to come back later.
 */
export class RetryIn extends Schema.TaggedError<RetryIn>()("RetryIn", {
  delay: Schema.Duration,
  reason: Schema.optional(Schema.String)
}) {
  /** `RetryIn.after("30 seconds", "rate limited")` */
  static after(delay: Duration.Input, reason?: string): RetryIn {
    return new RetryIn(
      reason === undefined
        ? { delay: Duration.fromInputUnsafe(delay) }
        : {
            delay: Duration.fromInputUnsafe(delay),
            reason
          }
    )
  }
}

/** Any of the control signals. */
export type JobControl = Unrecoverable | Discard | RetryIn

/** The handler ran longer than the job's `timeout`; it was interrupted and the attempt failed. */
export class JobTimeout extends Schema.TaggedError<JobTimeout>()("JobTimeout", {
  job: Schema.String,
  timeout: Schema.Duration
}) {
  override get message(): string {
    return `${this.job} timed out after ${Duration.format(this.timeout)}`
  }
}

/** The payload does not match the job's schema or cannot be stored as JSON. */
export class InvalidPayload extends Schema.TaggedError<InvalidPayload>()("InvalidPayload", {
  job: Schema.String,
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  override get message(): string {
    return this.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")
  }
}

/** The encoded payload is bigger than the client allows. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  job: Schema.String,
  bytes: Schema.Number,
  maxBytes: Schema.Number
}) {
  override get message(): string {
    return (
      `${this.job}.payload is ${this.bytes} bytes encoded, over the limit of ${this.maxBytes}; ` +
      `store large data elsewhere and enqueue a reference, or raise JobClient maxPayloadBytes`
    )
  }
}

/** An enqueue option is unusable (both `delay` and `at`, a bad duration, a malformed queue name…). */
export class InvalidEnqueueOptions extends Schema.TaggedError<InvalidEnqueueOptions>()("InvalidEnqueueOptions", {
  job: Schema.String,
  option: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.job} enqueue option ${this.option}: ${this.problem}`
  }
}

/** Everything enqueue can refuse before writing. */
export type EnqueueError = InvalidPayload | PayloadTooLarge | InvalidEnqueueOptions
