/**
 * Retry policies: how many times a failed job runs again, and how long it waits first.
 *
 * The default copies Sidekiq: 25 retries with polynomial backoff and jitter
 * (`retry⁴ + 15 + rand(10) × (retry + 1)` seconds, about 21 days in all). A job may say
 * `retry: false` (no retries: the first failure goes to the dead set, where it stays
 * visible), `retry: n` (n retries on the default backoff), or pass any `Schedule`, replayed
 * from the job's stored attempt count so consecutive retries on different processes keep
 * progressing.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"

const TypeId = "~@effect-jobs/core/RetryPolicy" as const

/** How a job is retried. */
export interface RetryPolicy {
  readonly [TypeId]: typeof TypeId
  /** Retries allowed after the first attempt (`Infinity` for a schedule that never ends). */
  readonly maxRetries: number
  /** Delay before retry number `retry` (1-based), or `undefined` when the policy is exhausted. */
  readonly delay: (retry: number) => Effect.Effect<Duration.Duration | undefined>
}

/** What a job definition accepts as `retry`. */
export type RetryInput = RetryPolicy | boolean | number | Schedule.Schedule<unknown, number>

const sidekiqDelay = (retry: number): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.nextIntBetween(0, 10, { halfOpen: true }), (jitter) =>
    Duration.seconds((retry - 1) ** 4 + 15 + jitter * retry)
  )

/** Sidekiq's backoff, with `maxRetries` retries (default 25). */
export const polynomial = (options?: { readonly maxRetries?: number | undefined }): RetryPolicy => {
  const maxRetries = options?.maxRetries ?? 25
  return {
    [TypeId]: TypeId,
    maxRetries,
    delay: (retry) => (retry > maxRetries ? Effect.undefined : sidekiqDelay(retry))
  }
}

/** `base × factor^(retry-1)`, capped at `max`, with ±`jitter` (fraction) randomness. */
export const exponential = (options: {
  readonly maxRetries: number
  readonly base?: Duration.Input | undefined
  readonly factor?: number | undefined
  readonly max?: Duration.Input | undefined
  readonly jitter?: number | undefined
}): RetryPolicy => {
  const base = Duration.toMillis(options.base ?? "1 second")
  const factor = options.factor ?? 2
  const max = options.max === undefined ? Infinity : Duration.toMillis(options.max)
  const jitter = options.jitter ?? 0.1
  return {
    [TypeId]: TypeId,
    maxRetries: options.maxRetries,
    delay: (retry) =>
      retry > options.maxRetries
        ? Effect.undefined
        : Effect.map(Random.next, (r) => {
            const raw = Math.min(max, base * factor ** (retry - 1))
            return Duration.millis(Math.max(0, raw * (1 + jitter * (2 * r - 1))))
          })
  }
}

/** Never retry: the first failure is final. */
export const none: RetryPolicy = { [TypeId]: TypeId, maxRetries: 0, delay: () => Effect.undefined }

/**
 * Retry as a `Schedule` says. The schedule is replayed up to the retry number on every
 * failure, so its input is the retry number and its state survives process changes.
 */
export const fromSchedule = (schedule: Schedule.Schedule<unknown, number>): RetryPolicy => ({
  [TypeId]: TypeId,
  maxRetries: Infinity,
  delay: Effect.fnUntraced(function* (retry: number) {
    const step = yield* Schedule.toStep(schedule)
    let now = 0
    let delay: Duration.Duration | undefined
    for (let i = 1; i <= retry; i++) {
      const result = yield* Pull.catchDone(step(now, i), () => Effect.undefined)
      if (result === undefined) return undefined
      delay = result[1]
      now += Duration.toMillis(delay)
    }
    return delay
  })
})

/** The default policy: Sidekiq's 25 retries. */
export const defaultPolicy: RetryPolicy = polynomial()

/** Whether a value is a `RetryPolicy` (a string key, so two installed copies of the package agree). */
export const isRetryPolicy = (u: unknown): u is RetryPolicy => typeof u === "object" && u !== null && TypeId in u

/** Reads what a job definition says into a policy. */
export const fromInput = (input: RetryInput | undefined): RetryPolicy => {
  if (input === undefined || input === true) return defaultPolicy
  if (input === false) return none
  if (typeof input === "number") {
    if (!Number.isInteger(input) || input < 0) {
      throw new RangeError(`retry: expected false, true, a whole number of retries >= 0 or a Schedule, got ${input}`)
    }
    return polynomial({ maxRetries: input })
  }
  return isRetryPolicy(input) ? input : fromSchedule(input)
}
