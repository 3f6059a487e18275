/** The admin commands and flags the other CLI tests leave out, on a Redis of this file's own. */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { startRedisServer } from "@effect-jobs/redis/testing"
import { fixtures, run, start } from "./helpers/cli.ts"
import { cliOnRedis, jsonLines, ok } from "./helpers/redis.ts"

const { on, newPrefix, stats, statsUntil, worker, stop, enqueue } = cliOnRedis("admin")

/** Writes lines to a temporary NDJSON file; returns its path (the directory goes with `cleanup`). */
const ndjson = (lines: ReadonlyArray<string>) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-cli-"))
  const file = Path.join(dir, "jobs.ndjson")
  Fs.writeFileSync(file, lines.join("\n"))
  return { file, cleanup: () => Fs.rmSync(dir, { recursive: true, force: true }) }
}

const queueSize = (current: any, name: string) => current.queues.find((q: any) => q.name === name)?.size ?? 0

describe("admin commands on Redis", () => {
  it("lists, retries and deletes jobs of the retry set", async () => {
    const prefix = newPrefix()
    await enqueue(prefix, "Later", { n: 1 })
    await enqueue(prefix, "Later", { n: 2 })
    const running = worker(prefix)
    await statsUntil(prefix, (s) => s.retry === 2, 60_000)
    await stop(running)
    const listed = jsonLines(ok(await run(["retries", "list", "--json", ...on(prefix)])).stdout)
    assert.deepStrictEqual(listed.map((job) => JSON.parse(job.payload).n).sort(), [1, 2])
    assert.include(ok(await run(["retries", "list", ...on(prefix)])).stdout, "Later")
    const [first, second] = listed
    assert.include(ok(await run(["retries", "retry", first.id, ...on(prefix)])).stdout, "1 of 1 job(s) moved")
    assert.include(ok(await run(["retries", "delete", second.id, ...on(prefix)])).stdout, "1 of 1 job(s) deleted")
    const after = await stats(prefix)
    assert.strictEqual(after.retry, 0)
    assert.strictEqual(queueSize(after, "default"), 1)
  }, 180_000)

  it("enqueues --file envelope lines with their own queue, delay and id, and lists every bad line writing nothing", async () => {
    const prefix = newPrefix()
    const good = ndjson([
      JSON.stringify({ job: "Greet", payload: { name: "a" }, queue: "q1", id: "env-1" }),
      JSON.stringify({ job: "SendEmail", payload: { to: "x@example.com", user: { id: 1 } }, delay: "1h" }),
      JSON.stringify({ job: "Greet", payload: { name: "b" } })
    ])
    const written = ok(await run(["enqueue", "--jobs", fixtures.jobs, "--file", good.file, ...on(prefix)]))
    good.cleanup()
    assert.include(written.stdout, "enqueued 3 of 3 jobs")
    assert.include(written.stdout, "(2 ready, 1 scheduled, 0 duplicate)")
    let current = await stats(prefix)
    assert.strictEqual(queueSize(current, "q1"), 1)
    assert.strictEqual(queueSize(current, "default"), 1)
    assert.strictEqual(current.scheduled, 1)

    const bad = ndjson([
      JSON.stringify({ job: "Greet", payload: { name: "fine" } }),
      JSON.stringify({ job: "Greet", payload: { name: 42 } }),
      JSON.stringify({ job: "SendEmail", payload: { to: "y@example.com", user: { id: "one" } } })
    ])
    const refused = await run(["enqueue", "--jobs", fixtures.jobs, "--file", bad.file, ...on(prefix)])
    bad.cleanup()
    assert.notStrictEqual(refused.code, 0)
    assert.include(refused.stderr, "2 invalid job(s), nothing enqueued")
    assert.match(refused.stderr, /line 2: .*name/)
    assert.match(refused.stderr, /line 3: .*user\.id/)
    current = await stats(prefix)
    assert.strictEqual(queueSize(current, "default"), 1, "nothing of the bad file was written")
  })

  it("enqueues under the caller's --id once, saying so the second time", async () => {
    const prefix = newPrefix()
    assert.strictEqual(await enqueue(prefix, "Greet", { name: "a" }, "--id", "greet-a"), "greet-a")
    const again = ok(
      await run([
        "enqueue",
        "Greet",
        "--jobs",
        fixtures.jobs,
        "--payload",
        `{"name":"b"}`,
        "--id",
        "greet-a",
        ...on(prefix)
      ])
    )
    assert.include(again.stdout + again.stderr, "a job with id greet-a already exists; nothing changed")
    assert.strictEqual(queueSize(await stats(prefix), "default"), 1)
  })

  it("pages the dead set with --limit and --offset", async () => {
    const prefix = newPrefix()
    const file = ndjson(["r1", "r2", "r3"].map((reason) => JSON.stringify({ job: "Explode", payload: { reason } })))
    ok(await run(["enqueue", "--jobs", fixtures.jobs, "--file", file.file, ...on(prefix)]))
    file.cleanup()
    const running = worker(prefix)
    await statsUntil(prefix, (s) => s.dead === 3, 60_000)
    await stop(running)
    const firstPage = ok(await run(["dead", "list", "--json", "--limit", "2", ...on(prefix)]))
    const secondPage = ok(await run(["dead", "list", "--json", "--limit", "2", "--offset", "2", ...on(prefix)]))
    const firstIds = jsonLines(firstPage.stdout).map((job) => job.id)
    const secondIds = jsonLines(secondPage.stdout).map((job) => job.id)
    assert.lengthOf(firstIds, 2)
    assert.lengthOf(secondIds, 1)
    assert.lengthOf(new Set([...firstIds, ...secondIds]), 3)
    const table = ok(await run(["dead", "list", "--limit", "2", ...on(prefix)]))
    assert.include(table.stderr, "showing 1-2 of 3; next page: --offset 2")
  }, 180_000)

  it("prints queues list --json with each queue's size and pause state", async () => {
    const prefix = newPrefix()
    await enqueue(prefix, "Greet", { name: "a" })
    await enqueue(prefix, "Greet", { name: "b" }, "--queue", "other")
    ok(await run(["queues", "pause", "other", ...on(prefix)]))
    const queues = JSON.parse(ok(await run(["queues", "list", "--json", ...on(prefix)])).stdout)
    const byName = new Map<string, any>(queues.map((q: any) => [q.name, q]))
    assert.strictEqual(byName.get("default")?.size, 1)
    assert.strictEqual(byName.get("default")?.paused, false)
    assert.strictEqual(byName.get("other")?.size, 1)
    assert.strictEqual(byName.get("other")?.paused, true)
  })

  it("runs a worker on weighted -q queues, and in the given order with --strict", async () => {
    const prefix = newPrefix()
    const workerOn = (...args: Array<string>) =>
      start(["worker", "--jobs", fixtures.jobs, ...on(prefix, "debug"), ...args])
    const weighted = workerOn("-q", "urgent:10", "-q", "default:1")
    const running = await statsUntil(prefix, (s) => s.processes.length === 1, 60_000)
    await stop(weighted)
    assert.isFalse(running.processes[0].strict)
    assert.deepInclude(running.processes[0].queues, { name: "urgent", weight: 10 })

    const file = ndjson(
      ["low", "high"].flatMap((queue) =>
        [1, 2, 3].map((n) => JSON.stringify({ job: "Greet", payload: { name: `${queue}${n}` }, queue }))
      )
    )
    ok(await run(["enqueue", "--jobs", fixtures.jobs, "--file", file.file, ...on(prefix)]))
    file.cleanup()
    const strict = workerOn("-q", "high:1", "-q", "low:100", "--strict", "-c", "1")
    await strict.waitFor(/hello low3/, 60_000)
    await stop(strict)
    const order = [...strict.stderr().matchAll(/hello (\w+)/g)].map((m) => m[1])
    assert.deepStrictEqual(order, ["high1", "high2", "high3", "low1", "low2", "low3"])
  }, 180_000)

  it("refuses a Redis that may evict keys unless --allow-eviction is given", async () => {
    const evicting = await startRedisServer({ args: ["--maxmemory-policy", "allkeys-lru"] })
    try {
      const args = ["stats", "--json", "--redis", evicting.url, "--prefix", "evict", "--fail-fast"]
      const refused = await run(args)
      assert.notStrictEqual(refused.code, 0)
      assert.include(refused.stderr, "maxmemory-policy allkeys-lru")
      ok(await run([...args, "--allow-eviction"]))
    } finally {
      await evicting.stop()
    }
  })
})
