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
 * | interruption by the worker         | `requeue`, attempt given back                 |
 * | any other interruption             | a failed attempt (`Interrupted`), as above     |
 *
 * A job whose attempt count is already past its policy (earlier runs never settled: their
 * process died mid-run) is killed before it runs, so a job that crashes its process is
 * bounded. Settlements are retried on store errors; they are fenced, so a retry is safe.
 * Malformed records (unknown job name, payload that is not JSON or fails its schema) are
 * killed with a reason, so they never block the jobs behind them.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Metric from "effect/Metric"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import type { JobInfo } from "./CurrentJob.ts"
import { CurrentJob } from "./CurrentJob.ts"
import { isDiscard, isRetryIn, isUnrecoverable, JobTimeout } from "./JobError.ts"
import type { JobEvent } from "./JobEvents.ts"
import { type AttemptError, boundAttemptError, boundReason, type ClaimedJob, type Lease } from "./JobRecord.ts"
import * as JobSeries from "./internal/jobSeries.ts"
import * as JobTracing from "./internal/jobTracing.ts"
import type { Registry } from "./internal/registry.ts"
import * as Middleware from "./Middleware.ts"
import type { QueueStore, QueueStoreError } from "./QueueStore.ts"

/**
 * What became of a claimed job. `lost`: the lease had passed to someone else, nothing changed.
 * `acking`: it succeeded and its ack went to `RunOptions.ackLater`, which settles it.
 */
export type Outcome = "succeeded" | "retried" | "dead" | "discarded" | "requeued" | "lost" | "acking"

/** What a processor needs. */
export interface ProcessorOptions {
  readonly store: QueueStore["Service"]
  readonly registry: Registry
  readonly middleware: ReadonlyArray<Middleware.JobMiddleware>
  /** Publishes lifecycle events; `undefined` when nobody listens (no `JobEvents` layer). */
  readonly publish: ((event: JobEvent) => void) | undefined
}

/** How one run is judged. */
export interface RunOptions {
  /**
   * Whether the worker itself interrupted this run (shutdown, lost lease); only then does an
   * interruption put the job back uncounted. A handler that interrupts itself fails its attempt.
   */
  readonly interruptedByWorker?: (() => boolean) | undefined
  /** Called when the handler has ended, before the settlement: the job no longer runs. */
  readonly finished?: (() => void) | undefined
  /**
   * Takes a succeeded job's ack to send later and returns `true`: the run ends at once, and
   * `settled` is called with whether the lease was still held when the store has answered.
   * `false`: not taken, the run acks the job itself. The worker's lanes send taken acks with
   * their next claim; a run that waited for that reply cost a suspended fiber per job.
   */
  readonly ackLater?: ((lease: Lease, settled: (held: boolean) => void) => boolean) | undefined
  /** When the claim that leased the job was sent (`Clock` nanoseconds): the start of its claim span. */
  readonly claimStartedNanos?: bigint | undefined
}

const maxFieldsLength = 500
const notFields = new Set(["_tag", "name", "message", "stack", "cause"])

/**
 * The data a failure carries, as JSON (`{"userId":7}`), for errors without a message: a tagged
 * error declared with fields only would otherwise be described by its tag alone. At most about
 * 500 characters, taken field by field (a long string field is cut before it is encoded);
 * `undefined` when there is nothing JSON can show.
 */
const describeFields = (value: object): string | undefined => {
  let json = ""
  for (const key of Object.keys(value)) {
    if (notFields.has(key)) continue
    let encoded: string | undefined
    try {
      let field: unknown = (value as Record<string, unknown>)[key]
      if (typeof field === "string" && field.length > maxFieldsLength) field = `${field.slice(0, maxFieldsLength)}…`
      encoded = JSON.stringify(field)
    } catch {
      continue // a getter that throws, a cycle, a BigInt
    }
    if (encoded === undefined) continue // a function, a symbol, undefined
    json += `${json === "" ? "{" : ","}${JSON.stringify(key)}:${encoded}`
    if (json.length > maxFieldsLength) return `${json.slice(0, maxFieldsLength)}…}`
  }
  return json === "" ? undefined : `${json}}`
}

/** A failure value's message: its own `message`, else its fields as JSON, else `String(value)`. */
const messageOf = (value: unknown): string => {
  if (typeof value !== "object" || value === null) return String(value)
  const { message } = value as { readonly message?: unknown }
  if (typeof message === "string" && message !== "") return message
  return describeFields(value) ?? String(value)
}

/** The tag and message of a failure; may throw on a hostile value (a throwing getter or proxy). */
const describeFailure = (cause: Cause.Cause<unknown>): { readonly tag: string; readonly message: string } => {
  const error = Cause.findErrorOption(cause)
  if (error._tag === "Some") {
    const value = error.value as { readonly _tag?: unknown; readonly name?: unknown }
    const tag = typeof value?._tag === "string" ? value._tag : typeof value?.name === "string" ? value.name : "Error"
    return { tag, message: messageOf(error.value) }
  }
  if (Cause.hasInterruptsOnly(cause)) {
    return {
      tag: "Interrupted",
      message: "the handler was interrupted, but not by the worker (Effect.interrupt or an interrupted fiber joined)"
    }
  }
  const defect = Cause.squash(cause)
  return { tag: "Defect", message: defect instanceof Error ? `${defect.name}: ${defect.message}` : messageOf(defect) }
}

/**
 * Describes a failed attempt for the job's error history. It never throws: it runs inside the
 * settlement, and a failure that cannot be read must still be retried or killed.
 */
export const toAttemptError = (cause: Cause.Cause<unknown>, attempt: number, at: number): AttemptError => {
  let tag = "Defect"
  let message = "the failure could not be read: reading its properties threw"
  try {
    ;({ message, tag } = describeFailure(cause))
  } catch {
    // Keeps the fallback above.
  }
  let pretty: string
  try {
    pretty = Cause.pretty(cause)
  } catch {
    // Rendering copies the error's own properties; a getter that throws stops it.
    pretty = `${tag}: ${message} (its cause could not be rendered)`
  }
  // Bounded in bytes (a 1 MB message would otherwise travel with every later claim of the job).
  return boundAttemptError({ attempt, tag, message, cause: pretty, at })
}

const settleRetry = { schedule: Schedule.exponential("200 millis"), times: 4 }
/**
 * Runs a settlement, trying it again on store errors: settlements are fenced by the lease
 * token, so repeating one is safe. The retry machinery is built only after a first failure
 * (settling is on every job's path); the waits are 100 ms, then 200, 400, 800 and 1,600 ms.
 */
export const settle = <A>(effect: Effect.Effect<A, QueueStoreError>) =>
  Effect.catch(effect, () => Effect.andThen(Effect.sleep("100 millis"), Effect.retry(effect, settleRetry)))

/**
 * Logs a settlement the store refused: the lease had passed to a later run, which owns the job
 * now. Said once, at warn, with the job id; nothing else reports it (no event, no metric).
 */
export const logRefused = (job: ClaimedJob, settlement: string): Effect.Effect<void> =>
  Effect.logWarning(
    `${job.name} ${job.id}: the store refused this run's ${settlement} (fence ${job.fence}): its lease had ` +
      `expired and passed to a later run, so nothing changed`
  )

const lease = (job: ClaimedJob): Lease => ({ id: job.id, token: job.token })
/** A settlement under its span when the job is traced. */
const settling = <E>(spans: JobTracing.JobSpans | undefined, effect: Effect.Effect<Outcome, E>) =>
  spans === undefined ? effect : spans.settling(effect)
const acking = Effect.succeed<Outcome>("acking")

/** Builds the function that runs and settles one claimed job. */
export const make = (options: ProcessorOptions) => {
  const { middleware, publish, registry, store } = options
  const emit = (event: JobEvent) => {
    if (publish !== undefined) publish(event)
  }
  const storeAck = (lease: Lease) => Effect.map(store.ack([lease]), (held) => held > 0)

  // One context step per run, not one per concern (`annotateLogs`, then the handler's
  // services): every job's path. The job's log annotations go on top of the merged ones.
  const runContext = <R>(context: Context.Context<R>, job: ClaimedJob): Context.Context<R> => {
    const handler = registry.get(job.name)
    const merged = handler === undefined ? context : handler.withServices(context)
    const annotations = Context.get(merged, References.CurrentLogAnnotations)
    return Context.add(merged, References.CurrentLogAnnotations, { ...annotations, jobId: job.id, job: job.name })
  }

  // A job's metric series are built once per queue and job name, found by two lookups that
  // allocate nothing.
  const seriesCache = new Map<string, Map<string, JobSeries.JobSeries>>()
  const metricsFor = (job: ClaimedJob) => {
    let byName = seriesCache.get(job.queue)
    if (byName === undefined) {
      byName = new Map()
      seriesCache.set(job.queue, byName)
    }
    let series = byName.get(job.name)
    if (series === undefined) {
      series = JobSeries.make({ job: job.name, queue: job.queue })
      byName.set(job.name, series)
    }
    return series
  }
  const count = (job: ClaimedJob, pick: (series: JobSeries.JobSeries) => Metric.Counter<number>) =>
    Effect.withFiber((fiber) => {
      const series = metricsFor(job)
      pick(series).updateUnsafe(1, series.context(fiber.context))
      return Effect.void
    })
  // Counted and reported only once the store has accepted the retry or kill that records it.
  const failedAttempt = (job: ClaimedJob, error: AttemptError) =>
    Effect.andThen(
      count(job, (series) => series.failed),
      Effect.sync(() =>
        emit({ _tag: "Failed", id: job.id, name: job.name, queue: job.queue, attempt: job.attempt, error })
      )
    )

  const refused = (job: ClaimedJob, settlement: string) => Effect.as(logRefused(job, settlement), "lost" as const)

  /** Kills the job; once the store has accepted it, reports the failed attempt (if any) and the death. */
  const kill = Effect.fnUntraced(function* (job: ClaimedJob, fullReason: string, error?: AttemptError) {
    // Bounded once for the store, the event and the log line alike.
    const reason = boundReason(fullReason)
    const held = yield* settle(store.kill(lease(job), { reason, error }))
    if (!held) return yield* refused(job, "move to the dead set")
    if (error !== undefined) yield* failedAttempt(job, error)
    yield* count(job, (series) => series.dead)
    emit({ _tag: "Dead", id: job.id, name: job.name, queue: job.queue, attempt: job.attempt, reason })
    yield* Effect.logWarning(`${job.name} ${job.id} moved to the dead set: ${reason}`)
    return "dead" as const
  })

  const settleFailure = Effect.fnUntraced(function* (
    job: ClaimedJob,
    info: JobInfo,
    cause: Cause.Cause<unknown>,
    interruptedByWorker: boolean
  ): Effect.fn.Return<Outcome, QueueStoreError> {
    const ref = { id: job.id, name: job.name, queue: job.queue, attempt: job.attempt }
    if (interruptedByWorker && Cause.hasInterruptsOnly(cause)) {
      if (!(yield* settle(store.requeue(lease(job))))) return yield* refused(job, "requeue")
      emit({ _tag: "Requeued", ...ref })
      return "requeued"
    }
    const error = Cause.findErrorOption(cause)
    const value = error._tag === "Some" ? error.value : undefined
    if (isDiscard(value)) {
      if (!(yield* settle(store.discard(lease(job))))) return yield* refused(job, "discard")
      emit({ _tag: "Discarded", ...ref })
      return "discarded"
    }
    if (isRetryIn(value) && Duration.isFinite(value.delay)) {
      const delayMillis = Duration.toMillis(value.delay)
      if (!(yield* settle(store.retry(lease(job), { delayMillis, countAttempt: false })))) {
        return yield* refused(job, "RetryIn")
      }
      emit({ _tag: "Retried", ...ref, delayMillis, counted: false })
      return "retried"
    }
    const now = yield* Clock.currentTimeMillis
    const attemptError = toAttemptError(cause, job.attempt, now)
    if (isUnrecoverable(value)) {
      return yield* kill(job, `Unrecoverable: ${value.message}`, attemptError)
    }
    const policy = registry.get(job.name)?.job.retry
    const delay = policy === undefined || job.attempt > policy.maxRetries ? undefined : yield* policy.delay(job.attempt)
    if (delay === undefined) {
      const reason =
        info.maxRetries === 0
          ? `${attemptError.tag}: ${attemptError.message} (retries are off for ${job.name})`
          : `${attemptError.tag}: ${attemptError.message} (retries exhausted after ${job.attempt} attempts)`
      return yield* kill(job, reason, attemptError)
    }
    const delayMillis = Duration.toMillis(delay)
    if (!(yield* settle(store.retry(lease(job), { delayMillis, error: attemptError, countAttempt: true })))) {
      return yield* refused(job, "retry")
    }
    yield* failedAttempt(job, attemptError)
    yield* count(job, (series) => series.retried)
    emit({ _tag: "Retried", ...ref, delayMillis, counted: true })
    yield* Effect.logWarning(
      `${job.name} ${job.id} attempt ${job.attempt} failed (${attemptError.tag}: ${attemptError.message}); ` +
        `retrying in ${Duration.format(delay)}`
    )
    return "retried"
  })

  /** Runs the job's handler under its timeout and middleware, then settles it. */
  const process = (job: ClaimedJob, runOptions?: RunOptions): Effect.Effect<Outcome, QueueStoreError> =>
    Effect.uninterruptibleMask((restore) =>
      // The success path is every job's path: it reads the clock and updates metrics directly
      // on the fiber (one step each side of the run) instead of through a chain of effects.
      Effect.withFiber((fiber): Effect.Effect<Outcome, QueueStoreError> => {
        const clock = fiber.getRef(Clock.Clock)
        // Only with a tracer installed: the spans of this job (the claim's is made here).
        const tracer = JobTracing.installedTracer(fiber)
        const spans =
          tracer === undefined ? undefined : new JobTracing.JobSpans(tracer, clock, job, runOptions?.claimStartedNanos)
        const handler = registry.get(job.name)
        if (handler === undefined) {
          return settling(
            spans,
            kill(
              job,
              `unknown job name ${JSON.stringify(job.name)}: no handler is registered for it on this worker; ` +
                `provide ${job.name}.toLayer(...) to the worker`
            )
          )
        }
        const allowed = handler.job.retry.maxRetries + 1
        if (job.attempt > allowed) {
          return settling(
            spans,
            kill(
              job,
              `attempt ${job.attempt} exceeds the ${allowed} its retry policy allows: earlier runs never settled ` +
                `(their process died or lost its lease mid-run)`
            )
          )
        }
        const series = metricsFor(job)
        const runWith = (payload: unknown): Effect.Effect<Outcome, QueueStoreError> => {
          const info: JobInfo = {
            id: job.id,
            name: job.name,
            queue: job.queue,
            attempt: job.attempt,
            maxRetries: handler.job.retry.maxRetries,
            enqueuedAt: job.enqueuedAt,
            fence: job.fence,
            annotations: handler.job.annotations
          }
          const metricContext = series.context(fiber.context)
          series.queueLatency.updateUnsafe(Duration.millis(Math.max(0, job.claimedAt - job.runAt)), metricContext)
          if (publish !== undefined)
            publish({ _tag: "Started", id: job.id, name: job.name, queue: job.queue, attempt: job.attempt })

          // Built lazily inside the restored region: a handler or middleware that throws while
          // building its effect becomes a failed attempt, not a skipped settlement.
          const run = Effect.suspend(() => {
            const timeout = handler.job.timeout
            let effect: Effect.Effect<unknown, unknown> = Effect.provideService(
              handler.run(payload, info),
              CurrentJob,
              info
            )
            if (timeout !== undefined) {
              effect = Effect.timeoutOrElse(effect, {
                duration: timeout,
                orElse: () => Effect.fail(new JobTimeout({ job: job.name, timeout }))
              })
            }
            return middleware.length === 0 ? effect : Middleware.apply(middleware, effect, info)
          })

          const started = clock.currentTimeMillisUnsafe()
          // Both sides stop the clock, say the handler has ended and record its run time.
          const ended = () => {
            const durationMillis = clock.currentTimeMillisUnsafe() - started
            runOptions?.finished?.()
            series.runDuration.updateUnsafe(Duration.millis(durationMillis), metricContext)
            return durationMillis
          }
          return Effect.matchCauseEffect(
            restore(spans === undefined ? run : Effect.withParentSpan(run, spans.startRun())),
            {
              onFailure: (cause) => {
                ended()
                spans?.endRun(Exit.failCause(cause))
                return settling(spans, settleFailure(job, info, cause, runOptions?.interruptedByWorker?.() ?? false))
              },
              onSuccess: () => {
                const durationMillis = ended()
                const settled = (held: boolean): Outcome => {
                  if (!held) return "lost"
                  series.processed.updateUnsafe(1, metricContext)
                  if (publish !== undefined) {
                    publish({
                      _tag: "Succeeded",
                      id: job.id,
                      name: job.name,
                      queue: job.queue,
                      attempt: job.attempt,
                      durationMillis
                    })
                  }
                  return "succeeded"
                }
                // A refused ack is said once at warn; nothing counts or reports it.
                const ackNow = (then: (held: boolean) => Outcome) =>
                  Effect.flatMap(settle(storeAck(lease(job))), (held) =>
                    held ? Effect.succeed(then(true)) : Effect.as(logRefused(job, "ack"), then(false))
                  )
                if (spans === undefined) {
                  if (runOptions?.ackLater?.(lease(job), settled) === true) return acking
                  return ackNow(settled)
                }
                spans.endRun(Exit.void)
                // The settle span ends when the store has answered, whoever sends the ack.
                const settleSpan = spans.startSettle()
                const settledTraced = (held: boolean) => {
                  const outcome = settled(held)
                  spans.endSettle(settleSpan, outcome)
                  return outcome
                }
                if (runOptions?.ackLater?.(lease(job), settledTraced) === true) return acking
                return spans.settling(ackNow(settled), settleSpan)
              }
            }
          )
        }
        // Decoding answers at once for the usual schemas: no effect is built around its `Exit`.
        const decoding = handler.job.codec.decode(job.payload)
        if (Exit.isExit(decoding) && Exit.isSuccess(decoding)) return runWith(decoding.value)
        return Effect.matchEffect(decoding, {
          onFailure: (reason) => settling(spans, kill(job, `${job.name}.${reason}`)),
          onSuccess: runWith
        })
      })
    ).pipe(Effect.updateContext((context) => runContext(context, job)))

  return process
}
