import { afterAll, assert, describe, it } from "@effect/vitest"
import { fixtures, killAll, start } from "./helpers/cli.ts"

afterAll(killAll)

const jsonLines = (text: string): Array<Record<string, any>> =>
  text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, any>)

describe("worker on the in-memory store", () => {
  it("processes the jobs of its module, then exits 0 on SIGTERM", async () => {
    const worker = start(["worker", "--jobs", fixtures.seeded, "--log-level", "debug", "--log-format", "json"])
    await worker.waitFor(/hello Grace/)
    await worker.waitFor(/Greet \S+ done in[\s\S]*Greet \S+ done in/)
    worker.kill("SIGTERM")
    const result = await worker.exit
    assert.strictEqual(result.code, 0)
    const logs = jsonLines(result.stderr)
    const messages = logs.map((log) => String(log.message))
    assert.isTrue(messages.some((m) => m.startsWith("no --redis or REDIS_URL: running on the in-memory store")))
    assert.isTrue(messages.some((m) => /^worker \S+ started: Greet, Slow on default/.test(m)))
    const started = logs.filter((log) => log.annotations?.event === "Started")
    assert.isAtLeast(started.length, 2, "a Started line per run")
    assert.isTrue(started.every((log) => log.level === "DEBUG" && log.annotations.job !== undefined))
    assert.strictEqual(logs.filter((log) => log.annotations?.event === "Succeeded").length, 2)
    assert.strictEqual(messages[messages.length - 1], "worker stopped")
  })

  it("interrupts a job still running after --shutdown-timeout and still exits 0", async () => {
    const worker = start(
      [
        "worker",
        "--jobs",
        fixtures.seeded,
        "--log-level",
        "debug",
        "--log-format",
        "json",
        "--shutdown-timeout",
        "200ms"
      ],
      { SEED_SLOW_MILLIS: "60000" }
    )
    await worker.waitFor(/Slow \S+ started on default/)
    worker.kill("SIGTERM")
    const result = await worker.exit
    assert.strictEqual(result.code, 0)
    assert.include(result.stderr, "shutdown timeout reached: interrupting 1 job(s)")
    assert.match(result.stderr, /Slow \S+ interrupted; back at the head of default/)
  })

  it("logs for people when asked for the human format", async () => {
    const worker = start(["worker", "--jobs", fixtures.seeded, "--log-format", "human"])
    await worker.waitFor(/hello Ada/)
    worker.kill("SIGINT")
    const result = await worker.exit
    assert.strictEqual(result.code, 0)
    assert.match(result.stderr, /INFO \(#\d+\): worker \S+ started/)
    assert.notInclude(result.stderr, `"level":`)
  })
})
