import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { command, type RedisServer, startRedisServer } from "@effect-jobs/redis/testing"
import { runExample } from "./helpers.ts"

// Runs the program as `npm start` does, in its own process, on real time.
const runTour = (args: ReadonlyArray<string>) => runExample("delayed-jobs", args)

describe("seed 003: delayed jobs on Redis (--redis)", () => {
  let server: RedisServer | undefined
  let run: ReturnType<typeof runTour> | undefined
  beforeAll(async () => {
    server = await startRedisServer()
    run = runTour(["--redis", server.url])
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  it("runs the whole tour on Redis with the same results", () => {
    assert.strictEqual(run?.status, 0, run?.stderr)
    assert.include(run?.stdout, "store: Redis")
    assert.include(run?.stdout, "dead set: Flaky after 3 attempts, errors kept: 3")
    assert.include(run?.stdout, "processed 803, failed attempts 3, dead 1")
  })

  it("deletes the keys it wrote when it ends", async () => {
    assert.match(run?.stdout ?? "", /removed the tour's \d+ Redis keys \(prefix effect-jobs-example-\d+\)/)
    assert.strictEqual(await command(server!.url, "DBSIZE"), 0)
  })
})

describe("seed 003: delayed jobs", () => {
  let run = undefined as unknown as ReturnType<typeof runTour>
  let out = ""
  beforeAll(() => {
    run = runTour([])
    out = run.stdout
  }, 90_000)

  it("runs on the embedded in-memory store by default", () => {
    assert.include(out, "store: in memory (embedded)")
  })

  it("exits cleanly", () => {
    assert.strictEqual(run.status, 0, run.stderr)
  })

  it("returns the request before the slow work runs", () => {
    const ms = Number(/request done in (\d+) ms/.exec(out)?.[1])
    assert.isBelow(ms, 300, out)
  })

  it("drains 500 jobs with 25 concurrent workers far faster than one at a time", () => {
    const ms = Number(/500 jobs of 40 ms each done in (\d+) ms/.exec(out)?.[1])
    assert.isAbove(ms, (40 * 500) / 25 - 1, out)
    assert.isBelow(ms, (40 * 500) / 2, out)
  })

  it("retries the failing job with growing delays and then moves it to the dead set", () => {
    assert.include(out, "Flaky retried, next attempt in 200 ms")
    assert.include(out, "Flaky retried, next attempt in 400 ms")
    assert.match(out, /Flaky dead: UpstreamDown: .* \(retries exhausted after 3 attempts\)/)
    assert.include(out, "dead set: Flaky after 3 attempts, errors kept: 3")
  })

  it("runs the scheduled job no earlier than its due time, and close to it", () => {
    const ms = Number(/Reminder ran (\d+) ms after it was enqueued/.exec(out)?.[1])
    assert.isAtLeast(ms, 1000, out)
    // Due 1 s after its enqueue; 1 s of slack for a busy machine (the worker wakes at the due time, it does not poll).
    assert.isBelow(ms, 1000 + 1000, out)
  })

  it("lets the urgent job overtake the busy default queue", () => {
    const waiting = Number(/Urgent started while (\d+) of 300 default jobs/.exec(out)?.[1])
    assert.isAbove(waiting, 100, out)
  })

  it("counts every job in the final stats", () => {
    assert.include(out, "processed 803, failed attempts 3, dead 1")
  })
})
