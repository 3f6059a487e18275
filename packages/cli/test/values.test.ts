import { assert, describe, it } from "@effect/vitest"
import { maskUrl, parseDuration, parseQueueSpec } from "../src/internal/values.ts"

describe("flag values", () => {
  it("reads short and long durations", () => {
    assert.strictEqual(parseDuration("250ms"), 250)
    assert.strictEqual(parseDuration("30s"), 30_000)
    assert.strictEqual(parseDuration("1.5m"), 90_000)
    assert.strictEqual(parseDuration("30 seconds"), 30_000)
    assert.throws(() => parseDuration("30"), /a duration such as 30s/)
    assert.throws(() => parseDuration("-5s"), /a duration such as 30s/)
  })

  it("reads a queue with an optional weight after a colon or a comma", () => {
    assert.deepStrictEqual(parseQueueSpec("default"), { name: "default", weight: undefined })
    assert.deepStrictEqual(parseQueueSpec("urgent:10"), { name: "urgent", weight: 10 })
    assert.deepStrictEqual(parseQueueSpec("tenant:a,2"), { name: "tenant:a", weight: 2 })
    assert.throws(() => parseQueueSpec("urgent:0"), /positive number/)
  })

  it("masks the password of a Redis URL", () => {
    assert.strictEqual(maskUrl("redis://:s3cret@db.internal:6380/2"), "redis://:***@db.internal:6380/2")
    assert.strictEqual(maskUrl("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379")
  })
})
