/**
 * The errors of effect-jobs that users see.
 *
 * Control signals a handler fails with to steer what happens to its job (`Unrecoverable`,
 * `Discard`, `RetryIn`), and the typed refusals of the client (`InvalidPayload`,
 * `PayloadTooLarge`, `InvalidEnqueueOptions`).
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * The key every control signal carries (on its prototype, so it is not one of the error's
 * fields), valued with its kind. A string, so two installed copies of this package recognise
 * each other's signals, where `instanceof` would not.
 *
 * @since 0.1.0
 * @category type ids
 */
export const ControlTypeId = "~@effect-jobs/core/JobError/Control" as const

/**
 * Fail a handler with this to send the job to the dead set at once, skipping retries.
 *
 * @since 0.1.0
 * @category control signals
 */
export class Unrecoverable extends Schema.TaggedError<Unrecoverable>()("Unrecoverable", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  get [ControlTypeId](): "Unrecoverable" {
    return "Unrecoverable"
  }
}

/**
 * Fail a handler with this to drop the job: it is neither retried nor kept as dead.
 *
 * @since 0.1.0
 * @category control signals
 */
export class Discard extends Schema.TaggedError<Discard>()("Discard", {
  reason: Schema.optional(Schema.String)
}) {
  get [ControlTypeId](): "Discard" {
    return "Discard"
  }
}

/**
 * Fail a handler with this to run the job again after `delay` without counting a failed
 * attempt: a rate limit, a busy lock, an upstream asking to come back later.
 */
export class RetryIn extends Schema.TaggedError<RetryIn>()("RetryIn", {
  delay: Schema.Duration,
  reason: Schema.optional(Schema.String)
}) {
  get [ControlTypeId](): "RetryIn" {
    return "RetryIn"
  }
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

/**
 * Any of the control signals.
 *
 * @since 0.1.0
 * @category control signals
 */
export type JobControl = Unrecoverable | Discard | RetryIn

const controlKind = (u: unknown): unknown =>
  typeof u === "object" && u !== null && ControlTypeId in u ? (u as Record<string, unknown>)[ControlTypeId] : undefined

/**
 * Whether a value is `Unrecoverable` (from any installed copy of this package).
 *
 * @since 0.1.0
 * @category guards
 */
export const isUnrecoverable = (u: unknown): u is Unrecoverable => controlKind(u) === "Unrecoverable"

/**
 * Whether a value is `Discard` (from any installed copy of this package).
 *
 * @since 0.1.0
 * @category guards
 */
export const isDiscard = (u: unknown): u is Discard => controlKind(u) === "Discard"

/**
 * Whether a value is `RetryIn` (from any installed copy of this package).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryIn = (u: unknown): u is RetryIn => controlKind(u) === "RetryIn"

/**
 * Whether a value is any control signal.
 *
 * @since 0.1.0
 * @category guards
 */
export const isJobControl = (u: unknown): u is JobControl => controlKind(u) !== undefined

/** The handler ran longer than the job's `timeout`; it was interrupted and the attempt failed. */
export class JobTimeout extends Schema.TaggedError<JobTimeout>()("JobTimeout", {
  job: Schema.String,
  timeout: Schema.Duration
}) {
  override get message(): string {
    return `${this.job} timed out after ${Duration.format(this.timeout)}`
  }
}

/**
 * The payload does not match the job's schema or cannot be stored as JSON. `issues` lists
 * each problem with its field path; `cause` keeps the schema's own `SchemaIssue` (when the
 * schema refused it) for code that walks it.
 *
 * @since 0.1.0
 * @category enqueue errors
 */
export class InvalidPayload extends Schema.TaggedError<InvalidPayload>()("InvalidPayload", {
  job: Schema.String,
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
  cause: Schema.optional(Schema.Defect())
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
