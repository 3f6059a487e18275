/**
 * Runs one claimed job and settles it from its `Exit`.
 *
 * The run happens inside `uninterruptibleMask`: only the handler itself is interruptible,
 * so whatever ends it (success, failure, timeout, shutdown, a lost lease) the settlement
 * that follows always completes. The error channel decides the settlement:
 *
 * | exit                               | settlement                                    |
 * | ---------------------------------- | --------------------------------------------- |
 * | success                            | `ack`                                         |
 * | `Unrecoverable`                    | `kill` at once                                |
 * | `Discard`                          | `discard`                                     |
 * | `RetryIn(d)`                       | `retry` after d, attempt given back           |
 * | other failure, defect, `JobTimeout` | `retry` by the job's policy, `kill` when spent |
 * | interruption only                  | `requeue`, attempt given back                 |
 *
 * Malformed records (unknown job name, payload that is not JSON or fails its schema) are
 * killed with a reason, so they never block the jobs behind them.
 */
import { Cause, Clock, Duration, Effect, Exit, Metric } from "effect"
import type { JobInfo } from "./CurrentJob.ts"
import { CurrentJob } from "./CurrentJob.ts"
import { Discard, JobTimeout, RetryIn, Unrecoverable } from "./JobErrors.ts"
import type { JobEvent } from "./JobEvents.ts"
import * as JobMetrics from "./JobMetrics.ts"
import type { AttemptError, ClaimedJob, Lease } from "./JobRecord.ts"
import type { JobRegistry } from "./JobRegistry.ts"
import * as Middleware from "./Middleware.ts"
import type { QueueStore } from "./QueueStore.ts"

/** What became of a claimed job. `lost`: the lease had passed to someone else, nothing changed. */
export type Outcome = "succeeded" | "retried" | "dead" | "discarded" | "requeued" | "lost"

/** What a processor needs. */
export interface ProcessorOptions {
  readonly store: QueueStore["Service"]
  readonly registry: JobRegistry["Service"]
  readonly middleware: ReadonlyArray<Middleware.JobMiddleware>
  readonly publish: (event: JobEvent) => Effect.Effect<void>
}

const maxCauseLength = 8 * 1024

/** Describes a failed attempt for the job's error history. */
export const toAttemptError = (cause: Cause.Cause<unknown>, attempt: number, at: number): AttemptError => {
  const error = Cause.findErrorOption(cause)
  let tag = "Defect"
  let message: string
  if (error._tag === "Some") {
    const value = error.value as { readonly _tag?: unknown; readonly name?: unknown; readonly message?: unknown }
    tag = typeof value?._tag === "string" ? value._tag : typeof value?.name === "string" ? value.name : "Error"
    message = typeof value?.message === "string" && value.message !== "" ? value.message : String(error.value)
  } else {
    const defect = Cause.squash(cause)
    message = defect instanceof Error ? `${defect.name}: ${defect.message}` : String(defect)
  }
  const pretty = Cause.pretty(cause)
  return {
    attempt,
    tag,
    message,
    cause: pretty.length > maxCauseLength ? `${pretty.slice(0, maxCauseLength)}…` : pretty,
    at
  }
}

/** Builds the function that runs and settles one claimed job. */
export const make = (options: ProcessorOptions) => {
  const { middleware, publish, registry, store } = options

  const kill = (job: ClaimedJob, reason: string, error?: AttemptError) =>
    Effect.gen(function* () {
      const held = yield* store.kill(lease(job), { reason, error })
      if (!held) return "lost" as const
      yield* Metric.update(Metric.withAttributes(JobMetrics.dead, { job: job.name, queue: job.queue }), 1)
      yield* publish({ _tag: "Dead", id: job.id, name: job.name, queue: job.queue, attempt: job.attempt, reason })
      yield* Effect.logWarning(`${job.name} ${job.id} moved to the dead set: ${reason}`)
      return "dead" as const
    })

  const settleFailure = (
    job: ClaimedJob,
    info: JobInfo,
    cause: Cause.Cause<unknown>
  ): Effect.Effect<Outcome, unknown> =>
    Effect.gen(function* () {
      const ref = { id: job.id, name: job.name, queue: job.queue, attempt: job.attempt }
      if (Cause.hasInterruptsOnly(cause)) {
        if (!(yield* store.requeue(lease(job)))) return "lost"
        yield* publish({ _tag: "Requeued", ...ref })
        return "requeued"
      }
      const error = Cause.findErrorOption(cause)
      const value = error._tag === "Some" ? error.value : undefined
      if (value instanceof Discard) {
        if (!(yield* store.discard(lease(job)))) return "lost"
        yield* publish({ _tag: "Discarded", ...ref })
        return "discarded"
      }
      if (value instanceof RetryIn) {
        const delayMillis = Duration.toMillis(value.delay)
        if (!(yield* store.retry(lease(job), { delayMillis, countAttempt: false }))) return "lost"
        yield* publish({ _tag: "Retried", ...ref, delayMillis, counted: false })
        return "retried"
      }
      const now = yield* Clock.currentTimeMillis
      const attemptError = toAttemptError(cause, job.attempt, now)
      yield* Metric.update(Metric.withAttributes(JobMetrics.failed, { job: job.name, queue: job.queue }), 1)
      yield* publish({ _tag: "Failed", ...ref, error: attemptError })
      if (value instanceof Unrecoverable) {
        return yield* kill(job, `Unrecoverable: ${value.message}`, attemptError)
      }
      const policy = registry.get(job.name)?.job.retry
      const delay =
        policy === undefined || job.attempt > policy.maxRetries ? undefined : yield* policy.delay(job.attempt)
      if (delay === undefined) {
        const reason =
          info.maxRetries === 0
            ? `${attemptError.tag}: ${attemptError.message} (retries are off for ${job.name})`
            : `${attemptError.tag}: ${attemptError.message} (retries exhausted after ${job.attempt} attempts)`
        return yield* kill(job, reason, attemptError)
      }
      const delayMillis = Duration.toMillis(delay)
      if (!(yield* store.retry(lease(job), { delayMillis, error: attemptError, countAttempt: true }))) return "lost"
      yield* Metric.update(Metric.withAttributes(JobMetrics.retried, { job: job.name, queue: job.queue }), 1)
      yield* publish({ _tag: "Retried", ...ref, delayMillis, counted: true })
      yield* Effect.logWarning(
        `${job.name} ${job.id} attempt ${job.attempt} failed (${attemptError.tag}: ${attemptError.message}); ` +
          `retrying in ${Duration.format(delay)}`
      )
      return "retried"
    })

  /** Runs the job's handler under its timeout and middleware, then settles it. */
  const process = (job: ClaimedJob): Effect.Effect<Outcome, unknown> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const handler = registry.get(job.name)
        if (handler === undefined) {
          return yield* kill(
            job,
            `unknown job name ${JSON.stringify(job.name)}: no handler is registered for it on this worker; ` +
              `add ${job.name}.handle(...) to JobRegistry.layer`
          )
        }
        const decoded = yield* Effect.result(handler.job.codec.decode(job.payload))
        if (decoded._tag === "Failure") return yield* kill(job, `${job.name}.${decoded.failure}`)

        const info: JobInfo = {
          id: job.id,
          name: job.name,
          queue: job.queue,
          attempt: job.attempt,
          maxRetries: handler.job.retry.maxRetries,
          enqueuedAt: job.enqueuedAt
        }
        const attributes = { job: job.name, queue: job.queue }
        yield* Metric.update(
          Metric.withAttributes(JobMetrics.queueLatency, attributes),
          Duration.millis(Math.max(0, job.claimedAt - job.runAt))
        )
        yield* publish({ _tag: "Started", id: job.id, name: job.name, queue: job.queue, attempt: job.attempt })

        const timeout = handler.job.timeout
        let run: Effect.Effect<unknown, unknown> = Effect.provideService(
          handler.run(decoded.success, info),
          CurrentJob,
          info
        )
        if (timeout !== undefined) {
          run = Effect.timeoutOrElse(run, {
            duration: timeout,
            orElse: () => Effect.fail(new JobTimeout({ job: job.name, timeout }))
          })
        }
        run = Middleware.apply(middleware, run, info)

        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(restore(run))
        const durationMillis = (yield* Clock.currentTimeMillis) - started
        yield* Metric.update(Metric.withAttributes(JobMetrics.runDuration, attributes), Duration.millis(durationMillis))

        if (Exit.isSuccess(exit)) {
          if ((yield* store.ack([lease(job)])) === 0) return "lost"
          yield* Metric.update(Metric.withAttributes(JobMetrics.processed, attributes), 1)
          yield* publish({ _tag: "Succeeded", ...info, durationMillis })
          return "succeeded"
        }
        return yield* settleFailure(job, info, exit.cause)
      }).pipe(Effect.annotateLogs({ jobId: job.id, job: job.name }))
    )

  return process
}

const lease = (job: ClaimedJob): Lease => ({ id: job.id, token: job.token })
