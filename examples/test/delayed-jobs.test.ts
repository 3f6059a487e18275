import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const script = fileURLToPath(new URL("../src/delayed-jobs.ts", import.meta.url))

describe("seed 003: delayed jobs", () => {
  // Runs the program as `npm start` does, in its own process, on real time.
  const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 })
  const out = run.stdout

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

  it("runs the scheduled job no earlier than its due time", () => {
    const ms = Number(/Reminder ran (\d+) ms after it was enqueued/.exec(out)?.[1])
    assert.isAtLeast(ms, 1000, out)
  })

  it("lets the urgent job overtake the busy default queue", () => {
    const waiting = Number(/Urgent started while (\d+) of 300 default jobs/.exec(out)?.[1])
    assert.isAbove(waiting, 100, out)
  })

  it("counts every job in the final stats", () => {
    assert.include(out, "processed 803, failed attempts 3, dead 1")
  })
})
