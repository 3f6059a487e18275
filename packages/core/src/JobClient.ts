/**
 * The client: validates, encodes and writes jobs to the `QueueStore`.
 *
 * Every payload goes through its job's schema and a JSON round-trip check before anything
 * is written, so a bad payload fails at the producer with the field path in the message,
 * never later on a worker. `enqueueMany` validates the whole batch first, then writes it
 * in chunks of one store call each.
 */
import { Context, Duration, Effect, Layer, Metric } from "effect"
import { queueNameProblem } from "./internal/queueName.ts"
import type * as Job from "./Job.ts"
import { type EnqueueError, InvalidEnqueueOptions } from "./JobErrors.ts"
import * as JobEvents from "./JobEvents.ts"
import * as JobMetrics from "./JobMetrics.ts"
import { type EnqueueResult, type NewJob, QueueStore, type QueueStoreError } from "./QueueStore.ts"

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

const toEpochMillis = (at: NonNullable<Job.EnqueueOptions["at"]>): number =>
  typeof at === "number" ? at : at instanceof Date ? at.getTime() : at.epochMilliseconds

// Node's randomUUID draws from a cached entropy pool: several times cheaper per id than
// filling 16 fresh random bytes for each job.
const newJobId = (): string => globalThis.crypto.randomUUID()

/** Checks options and turns them into the timing and queue of a `NewJob`. */
const resolveOptions = (
  job: Job.Any,
  options: Job.EnqueueOptions | undefined
): Effect.Effect<Pick<NewJob, "queue" | "delayMillis" | "runAtMillis">, InvalidEnqueueOptions> => {
  const invalid = (option: string, problem: string) =>
    Effect.fail(new InvalidEnqueueOptions({ job: job.name, option, problem }))
  const queue = options?.queue ?? job.queue
  if (options?.queue !== undefined) {
    const problem = queueNameProblem(queue)
    if (problem !== undefined) return invalid("queue", problem)
  }
  if (options?.id !== undefined && (options.id.length === 0 || options.id.length > 200)) {
    return invalid("id", "must be 1-200 characters")
  }
  if (options?.in !== undefined && options.at !== undefined) {
    return invalid("in/at", "give one of `in` and `at`, not both")
  }
  if (options?.in !== undefined) {
    const delay = Duration.fromInput(options.in)
    // Duration reads NaN as zero: refuse it rather than run the job at once.
    if (delay._tag === "None" || !Duration.isFinite(delay.value) || Number.isNaN(options.in)) {
      return invalid("in", `${String(options.in)} is not a finite duration (try "30 seconds" or 30000)`)
    }
    const millis = Duration.toMillis(delay.value)
    if (millis < 0) return invalid("in", "must not be negative")
    return Effect.succeed({ queue, delayMillis: millis })
  }
  if (options?.at !== undefined) {
    const millis = toEpochMillis(options.at)
    if (!Number.isFinite(millis)) return invalid("at", "is not a valid time")
    return Effect.succeed({ queue, runAtMillis: millis })
  }
  return Effect.succeed({ queue })
}

/** Builds a client over the current `QueueStore`. */
export const make = (options?: ClientOptions): Effect.Effect<JobClient["Service"], never, QueueStore> =>
  Effect.gen(function* () {
    const store = yield* QueueStore
    const publish = yield* JobEvents.publisher
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

    const record = (job: Job.Any, queue: string, results: ReadonlyArray<EnqueueResult>) =>
      Effect.gen(function* () {
        let written = 0
        for (const result of results) {
          if (result.outcome !== "duplicate") written++
          yield* publish({ _tag: "Enqueued", id: result.id, name: job.name, queue, outcome: result.outcome })
        }
        if (written > 0) {
          yield* Metric.update(enqueuedCounter(job.name, queue), written)
        }
      })

    const enqueue = <J extends Job.Any>(job: J, payload: Job.Payload<J>, opts?: Job.EnqueueOptions) =>
      Effect.gen(function* () {
        const timing = yield* resolveOptions(job, opts)
        const text = yield* job.codec.encode(job.name, payload, maxBytes)
        const chosen = opts?.id
        const [result] = yield* store.enqueue([
          chosen === undefined
            ? { id: newJobId(), idGenerated: true, name: job.name, payload: text, ...timing }
            : { id: chosen, name: job.name, payload: text, ...timing }
        ])
        yield* record(job, timing.queue, [result!])
        return result!
      })

    const enqueueMany = <J extends Job.Any>(
      job: J,
      payloads: Iterable<Job.Payload<J>>,
      opts?: Omit<Job.EnqueueOptions, "id">
    ) =>
      Effect.gen(function* () {
        const timing = yield* resolveOptions(job, opts)
        const jobs: Array<NewJob> = []
        let index = 0
        for (const payload of payloads) {
          const text = yield* job.codec.encode(`${job.name}[${index++}]`, payload, maxBytes)
          jobs.push({ id: newJobId(), idGenerated: true, name: job.name, payload: text, ...timing })
        }
        const results: Array<EnqueueResult> = []
        for (let start = 0; start < jobs.length; start += chunkSize) {
          results.push(...(yield* store.enqueue(jobs.slice(start, start + chunkSize))))
        }
        yield* record(job, timing.queue, results)
        return results
      })

    return JobClient.of({ enqueue, enqueueMany })
  })

/** The client over the current `QueueStore`. */
export const layer = (options?: ClientOptions): Layer.Layer<JobClient, never, QueueStore> =>
  Layer.effect(JobClient, make(options))
