import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Random, Schedule } from "effect"
import { RetryPolicy } from "../src/index.ts"

const seconds = (delay: Duration.Duration | undefined): number => {
  assert.isDefined(delay)
  return Duration.toMillis(delay!) / 1000
}

describe("RetryPolicy", () => {
  it.effect("defaults to Sidekiq's 25 retries with (retry-1)^4 + 15 + rand(10) * retry seconds", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.fromInput(undefined)
      assert.strictEqual(policy.maxRetries, 25)
      assert.strictEqual(RetryPolicy.fromInput(true).maxRetries, 25)
      for (let retry = 1; retry <= 25; retry++) {
        const base = (retry - 1) ** 4 + 15
        const jitters = new Set<number>()
        for (let sample = 0; sample < 200; sample++) {
          const delay = seconds(yield* policy.delay(retry))
          const jitter = (delay - base) / retry
          assert.isTrue(Number.isInteger(jitter), `retry ${retry}: ${delay} s is not base + k * retry`)
          assert.isTrue(
            jitter >= 0 && jitter <= 9,
            `retry ${retry}: ${delay} s is outside [${base}, ${base + 9 * retry}]`
          )
          jitters.add(jitter)
        }
        // rand(10) takes each of 0..9: the whole jitter range is used, not a constant.
        assert.strictEqual(jitters.size, 10, `retry ${retry}: jitter values ${[...jitters].sort()}`)
      }
      assert.isUndefined(yield* policy.delay(26))
    }).pipe(Random.withSeed("sidekiq-backoff"))
  )

  it.effect("adds up to about three weeks of retries, as Sidekiq's does", () =>
    Effect.gen(function* () {
      let total = 0
      for (let retry = 1; retry <= 25; retry++) total += seconds(yield* RetryPolicy.defaultPolicy.delay(retry))
      const days = total / 86_400
      assert.isTrue(days > 18 && days < 24, `${days} days`)
    }).pipe(Random.withSeed(7))
  )

  it.effect("retry: n allows n retries on the default backoff", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.fromInput(5)
      assert.strictEqual(policy.maxRetries, 5)
      const fifth = seconds(yield* policy.delay(5))
      assert.isTrue(fifth >= 4 ** 4 + 15 && fifth <= 4 ** 4 + 15 + 45)
      assert.isUndefined(yield* policy.delay(6))
      assert.strictEqual(RetryPolicy.fromInput(0).maxRetries, 0)
      assert.isUndefined(yield* RetryPolicy.fromInput(0).delay(1))
    })
  )

  it.effect("retry: false never retries", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.fromInput(false)
      assert.strictEqual(policy.maxRetries, 0)
      assert.isUndefined(yield* policy.delay(1))
    })
  )

  it("refuses a retry count that is negative or fractional", () => {
    assert.throws(() => RetryPolicy.fromInput(-1), /whole number/)
    assert.throws(() => RetryPolicy.fromInput(1.5), /whole number/)
  })

  it.effect("replays a Schedule per retry number and stops when it ends", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.fromInput(Schedule.max([Schedule.exponential("1 second"), Schedule.recurs(3)]))
      assert.deepStrictEqual(
        [seconds(yield* policy.delay(1)), seconds(yield* policy.delay(2)), seconds(yield* policy.delay(3))],
        [1, 2, 4]
      )
      assert.isUndefined(yield* policy.delay(4))
      assert.isUndefined(yield* policy.delay(10))
      // Replaying is stateless: asking again gives the same answer.
      assert.strictEqual(seconds(yield* policy.delay(2)), 2)
    })
  )

  it.effect("a spaced Schedule without an end retries forever", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.fromInput(Schedule.spaced("10 seconds"))
      assert.strictEqual(policy.maxRetries, Infinity)
      assert.strictEqual(seconds(yield* policy.delay(1)), 10)
      assert.strictEqual(seconds(yield* policy.delay(40)), 10)
    })
  )

  it.effect("exponential grows by its factor and caps at max", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.exponential({ maxRetries: 8, base: "1 second", max: "10 seconds", jitter: 0 })
      const delays: Array<number> = []
      for (let retry = 1; retry <= 8; retry++) delays.push(seconds(yield* policy.delay(retry)))
      assert.deepStrictEqual(delays, [1, 2, 4, 8, 10, 10, 10, 10])
      assert.isUndefined(yield* policy.delay(9))
    })
  )

  it.effect("exponential jitter stays within its fraction, including at the cap", () =>
    Effect.gen(function* () {
      const policy = RetryPolicy.exponential({ maxRetries: 20, base: "1 second", max: "1 minute", jitter: 0.2 })
      let low = Infinity
      let high = 0
      for (let sample = 0; sample < 500; sample++) {
        const third = seconds(yield* policy.delay(3))
        assert.isTrue(third >= 3.2 && third <= 4.8, `${third}`)
        const capped = seconds(yield* policy.delay(20))
        assert.isTrue(capped >= 48 && capped <= 72, `${capped}`)
        low = Math.min(low, third)
        high = Math.max(high, third)
      }
      assert.isTrue(low < 3.5 && high > 4.5, `jitter spread ${low}..${high}`)
    }).pipe(Random.withSeed("exponential"))
  )
})
