/**
 * The client: validates, encodes and writes jobs to the `QueueStore`.
 *
 * Every payload goes through its job's schema and a JSON round-trip check before anything
 * is written, so a bad payload fails at the producer with the field path in the message,
 * never later on a worker. `enqueueMany` validates the whole batch first, then writes it
 * in chunks of one store call each.
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64Url from "effect/encoding/Base64Url"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as Tracer from "effect/Tracer"
import * as JobTracing from "./internal/jobTracing.ts"
import { queueNameProblem } from "./internal/queueName.ts"
import type * as Job from "./Job.ts"
import { type EnqueueError, InvalidEnqueueOptions } from "./JobError.ts"
import { idProblem, timeProblem } from "./JobRecord.ts"
import * as JobEvents from "./JobEvents.ts"
import * as JobMetrics from "./JobMetrics.ts"
import { type EnqueueResult, type NewJob, QueueStore, QueueStoreError } from "./QueueStore.ts"

/** Client settings. */
export interface ClientOptions {
  /** Largest encoded payload accepted, in bytes (default 512 KiB). */
  readonly maxPayloadBytes?: number | undefined
  /** Jobs per store call in `enqueueMany` (default 1,000). */
  readonly chunkSize?: number | undefined
}

/** The client service. */
export class JobClient extends Context.Service<
  JobClient,
  {
    readonly enqueue: <J extends Job.Any>(
      job: J,
      payload: Job.Payload<J>,
      options?: Job.EnqueueOptions
    ) => Effect.Effect<EnqueueResult, EnqueueError | QueueStoreError>
    readonly enqueueMany: <J extends Job.Any>(
      job: J,
      payloads: Iterable<Job.Payload<J>>,
      options?: Omit<Job.EnqueueOptions, "id">
    ) => Effect.Effect<ReadonlyArray<EnqueueResult>, EnqueueError | QueueStoreError>
  }
>()("@effect-jobs/core/JobClient") {}

/** Epoch milliseconds of an `at` (a `DateTime`, `Date`, epoch number, ISO string…), `NaN` when unreadable. */
const toEpochMillis = (at: NonNullable<Job.EnqueueOptions["at"]>): number => {
  const time = DateTime.make(at)
  return time._tag === "Some" ? DateTime.toEpochMillis(time.value) : Number.NaN
}

/**
 * Generated job ids: 22 random base64url characters (132 bits), never starting with `-` (so
 * an id is never read as a flag on a command line). Ids are stored three times per job, so
 * they are kept short. Random bytes are drawn and encoded in 48 KiB blocks (one native call
 * each); an id is two short copies out of the block's text, never a slice that would keep the
 * block alive. About twice as cheap per id as `crypto.randomUUID()`.
 */
const idLength = 22
const idBytes = new Uint8Array(48 * 1024)
let idBlock = ""
let idAt = 0
const refillIds = () => {
  globalThis.crypto.getRandomValues(idBytes)
  idBlock = Base64Url.encode(idBytes)
  idAt = 0
}
/** A fresh random job id (22 base64url characters, not starting with `-`). */
const newJobId = (): string => {
  for (;;) {
    if (idAt + idLength > idBlock.length) refillIds()
    // A leading '-' is skipped: the next character is just as random.
    if (idBlock.charCodeAt(idAt) !== 45) break
    idAt++
  }
  const at = idAt
  idAt += idLength
  return idBlock.slice(at, at + 11) + idBlock.slice(at + 11, at + idLength)
}

type Timing = Pick<NewJob, "queue" | "delayMillis" | "runAtMillis">

/** Describes the job on its enqueue span; the job, carrying that span's trace context. */
const traced = (span: Tracer.Span, job: NewJob): NewJob => {
  const attributes = JobTracing.attributes(job, "send")
  for (const key in attributes) span.attribute(key, attributes[key])
  const trace = JobTracing.toTraceparent(span)
  return trace === undefined ? job : { ...job, trace }
}

/** Checks options and turns them into the timing and queue of a `NewJob`. */
const resolveOptions = (job: Job.Any, options: Job.EnqueueOptions | undefined): Timing | InvalidEnqueueOptions => {
  if (options === undefined) return { queue: job.queue }
  const invalid = (option: string, problem: string) => new InvalidEnqueueOptions({ job: job.name, option, problem })
  const queue = options.queue ?? job.queue
  if (options.queue !== undefined) {
    const problem = queueNameProblem(queue)
    if (problem !== undefined) return invalid("queue", problem)
  }
  if (options.id !== undefined) {
    const problem = idProblem(options.id)
    if (problem !== undefined) return invalid("id", problem)
  }
  if (options.delay !== undefined && options.at !== undefined) {
    return invalid("delay/at", "give one of `delay` and `at`, not both")
  }
  if (options.delay !== undefined) {
    const delay = Duration.fromInput(options.delay)
    // Duration reads NaN as zero: refuse it rather than run the job at once.
    if (delay._tag === "None" || !Duration.isFinite(delay.value) || Number.isNaN(options.delay)) {
      return invalid("delay", `${String(options.delay)} is not a finite duration (try "30 seconds" or 30000)`)
    }
    const millis = Duration.toMillis(delay.value)
    if (millis < 0) return invalid("delay", "must not be negative")
    const problem = timeProblem({ delayMillis: millis })
    if (problem !== undefined) return invalid("delay", problem)
    return { queue, delayMillis: millis }
  }
  if (options.at !== undefined) {
    const millis = toEpochMillis(options.at)
    if (!Number.isFinite(millis)) return invalid("at", "is not a valid time")
    const problem = timeProblem({ runAtMillis: millis })
    if (problem !== undefined) return invalid("at", problem)
    return { queue, runAtMillis: millis }
  }
  return { queue }
}

/** Builds a client over the current `QueueStore`. */
export const make: (options?: ClientOptions) => Effect.Effect<JobClient["Service"], never, QueueStore> =
  Effect.fnUntraced(function* (options?: ClientOptions) {
    const store = yield* QueueStore
    const emit = yield* JobEvents.emitter
    const maxBytes = options?.maxPayloadBytes ?? 512 * 1024
    const chunkSize = Math.max(1, options?.chunkSize ?? 1000)

    // One attributed counter per job and queue: building one per enqueue is costly.
    const counters = new Map<string, Metric.Counter<number>>()
    const enqueuedCounter = (job: string, queue: string) => {
      const key = `${queue}\u0000${job}`
      let counter = counters.get(key)
      if (counter === undefined) {
        counter = Metric.withAttributes(JobMetrics.enqueued, { job, queue })
        counters.set(key, counter)
      }
      return counter
    }

    /** Publishes the events and counts the written jobs, synchronously (the fiber's context holds the metrics). */
    const record = (
      job: Job.Any,
      queue: string,
      results: ReadonlyArray<EnqueueResult>,
      context: Context.Context<never>
    ) => {
      let written = 0
      for (const result of results) {
        if (result.outcome !== "duplicate") written++
        if (emit !== undefined) {
          emit({ _tag: "Enqueued", id: result.id, name: job.name, queue, outcome: result.outcome })
        }
      }
      if (written > 0) enqueuedCounter(job.name, queue).updateUnsafe(written, context)
    }

    // `span`: the enqueue's span, when a tracer is installed; its context goes with the job.
    const enqueueWith = <J extends Job.Any>(
      fiber: Fiber.Fiber<unknown, unknown>,
      job: J,
      payload: Job.Payload<J>,
      opts: Job.EnqueueOptions | undefined,
      span: Tracer.Span | undefined
    ): Effect.Effect<EnqueueResult, EnqueueError | QueueStoreError> => {
      const timing = resolveOptions(job, opts)
      if (timing instanceof InvalidEnqueueOptions) return Effect.fail(timing)
      const write = (text: string) => {
        const chosen = opts?.id
        const untraced: NewJob =
          chosen === undefined
            ? { id: newJobId(), idGenerated: true, name: job.name, payload: text, ...timing }
            : { id: chosen, name: job.name, payload: text, ...timing }
        const newJob = span === undefined ? untraced : traced(span, untraced)
        return Effect.map(store.enqueue([newJob]), (results) => {
          record(job, timing.queue, results, fiber.context)
          if (span !== undefined) span.attribute("job.outcome", results[0]!.outcome)
          return results[0]!
        })
      }
      const text = job.codec.encodeNow(payload, maxBytes)
      return text !== undefined ? write(text) : Effect.flatMap(job.codec.encode(job.name, payload, maxBytes), write)
    }

    const enqueue = <J extends Job.Any>(job: J, payload: Job.Payload<J>, opts?: Job.EnqueueOptions) =>
      Effect.withFiber<EnqueueResult, EnqueueError | QueueStoreError>((fiber) =>
        JobTracing.installedTracer(fiber) === undefined
          ? enqueueWith(fiber, job, payload, opts, undefined)
          : Effect.useSpan("JobClient.enqueue", { kind: "producer" }, (span) =>
              Effect.withParentSpan(enqueueWith(fiber, job, payload, opts, span), span)
            )
      )

    const enqueueManyWith = Effect.fnUntraced(function* <J extends Job.Any>(
      fiber: Fiber.Fiber<unknown, unknown>,
      job: J,
      payloads: Iterable<Job.Payload<J>>,
      opts: Omit<Job.EnqueueOptions, "id"> | undefined,
      span: Tracer.Span | undefined
    ): Effect.fn.Return<ReadonlyArray<EnqueueResult>, EnqueueError | QueueStoreError> {
      const timing = resolveOptions(job, opts)
      if (timing instanceof InvalidEnqueueOptions) return yield* Effect.fail(timing)
      const jobs: Array<NewJob> = []
      let index = 0
      for (const payload of payloads) {
        const text =
          job.codec.encodeNow(payload, maxBytes) ??
          (yield* job.codec.encode(`${job.name}[${index}]`, payload, maxBytes))
        index++
        jobs.push({ id: newJobId(), idGenerated: true, name: job.name, payload: text, ...timing })
      }
      if (span !== undefined) {
        span.attribute("job.name", job.name)
        span.attribute("job.queue", timing.queue)
        span.attribute("job.count", jobs.length)
        const trace = JobTracing.toTraceparent(span)
        if (trace !== undefined) for (let i = 0; i < jobs.length; i++) jobs[i] = { ...jobs[i]!, trace }
      }
      const results: Array<EnqueueResult> = []
      for (let start = 0; start < jobs.length; start += chunkSize) {
        const written = yield* store
          .enqueue(start === 0 && jobs.length <= chunkSize ? jobs : jobs.slice(start, start + chunkSize))
          .pipe(
            // A later chunk failing must not hide what the earlier ones wrote.
            Effect.mapError((error) =>
              results.length === 0
                ? error
                : new QueueStoreError({
                    message: `${error.message} (the ${results.length} job(s) of the earlier chunks were written: see \`written\`)`,
                    retryable: error.retryable,
                    cause: error.cause,
                    unconfirmed: error.unconfirmed,
                    written: results.slice()
                  })
            ),
            Effect.tapError(() => Effect.sync(() => record(job, timing.queue, results, fiber.context)))
          )
        for (const result of written) results.push(result)
      }
      record(job, timing.queue, results, fiber.context)
      return results
    })

    const enqueueMany = <J extends Job.Any>(
      job: J,
      payloads: Iterable<Job.Payload<J>>,
      opts?: Omit<Job.EnqueueOptions, "id">
    ) =>
      Effect.withFiber<ReadonlyArray<EnqueueResult>, EnqueueError | QueueStoreError>((fiber) =>
        JobTracing.installedTracer(fiber) === undefined
          ? enqueueManyWith(fiber, job, payloads, opts, undefined)
          : Effect.useSpan("JobClient.enqueueMany", { kind: "producer" }, (span) =>
              Effect.withParentSpan(enqueueManyWith(fiber, job, payloads, opts, span), span)
            )
      )

    return JobClient.of({ enqueue, enqueueMany })
  })

/** The client over the current `QueueStore`. */
export const layer = (options?: ClientOptions): Layer.Layer<JobClient, never, QueueStore> =>
  Layer.effect(JobClient, make(options))
