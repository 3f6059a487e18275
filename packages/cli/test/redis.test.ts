import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { fixtures, run, start } from "./helpers/cli.ts"
import { cliOnRedis, command, ok } from "./helpers/redis.ts"

const redis = cliOnRedis("test")
const { on, newPrefix, stats, statsUntil, worker, stop, enqueue } = redis

describe("on Redis", () => {
  it("admin quarantine lists, shows and deletes a job the worker could not read, while the rest run", async () => {
    const prefix = newPrefix()
    const bad = await enqueue(prefix, "Greet", { name: "Bad" })
    await enqueue(prefix, "Greet", { name: "Ada" })
    const record = "r:0:0:1:1:0:Greet:written-by-a-future-version\u0000?"
    await command(redis.url, "HSET", `${prefix}:{default}:meta`, bad, `9~${record}`)
    const running = worker(prefix)
    await running.waitFor(/hello Ada/)
    await stop(running)

    const listed = ok(await run(["admin", "quarantine", "list", ...on(prefix)])).stdout
    assert.include(listed, bad)
    assert.include(listed, "record format version 9 is newer")
    const shown = JSON.parse(ok(await run(["admin", "quarantine", "show", bad, ...on(prefix)])).stdout)
    assert.strictEqual(shown.record, `9~${record}`)
    assert.deepStrictEqual(JSON.parse(shown.payload), { name: "Bad" })
    assert.include(ok(await run(["admin", "quarantine", "delete", bad, ...on(prefix)])).stdout, "1 of 1 entry deleted")
    assert.include(ok(await run(["admin", "quarantine", "list", ...on(prefix)])).stdout, "The quarantine is empty.")
    const missing = await run(["admin", "quarantine", "requeue", bad, ...on(prefix)])
    assert.strictEqual(missing.code, 1)
    assert.include(missing.stderr, "not in the quarantine")
  })

  it("runs enqueued jobs on a worker and shows them as processed in stats --json", async () => {
    const prefix = newPrefix()
    const id = await enqueue(prefix, "Greet", { name: "Ada" })
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
    const running = worker(prefix)
    await running.waitFor(/hello Ada/)
    await enqueue(prefix, "Greet", { name: "Grace" })
    await running.waitFor(/hello Grace/)
    const current = await statsUntil(prefix, (s) => s.processed >= 2 && s.processes.length === 1)
    assert.strictEqual(current.processed, 2)
    assert.strictEqual(current.failed, 0)
    assert.deepStrictEqual(
      current.processes[0].queues.map((q: any) => q.name),
      ["default", "mailers"]
    )
    await stop(running)
    assert.lengthOf((await stats(prefix)).processes, 0)
    // The test server has persistence off: the worker says so once; stats does not repeat it.
    assert.lengthOf(running.stderr().match(/persistence off/g) ?? [], 1)
    const quiet = ok(await run(["stats", ...on(prefix, "warn")]))
    assert.notInclude(quiet.stderr, "persistence off")
  })

  it("lists, retries and deletes dead jobs", async () => {
    const prefix = newPrefix()
    await enqueue(prefix, "Explode", { reason: "first" })
    await enqueue(prefix, "Explode", { reason: "second" })
    const running = worker(prefix)
    await statsUntil(prefix, (s) => s.dead === 2)
    await stop(running)

    const listed = ok(await run(["dead", "list", "--json", ...on(prefix)]))
      .stdout.trim()
      .split("\n")
      .map((line) => JSON.parse(line))
    assert.deepStrictEqual(listed.map((job) => JSON.parse(job.payload).reason).sort(), ["first", "second"])
    const table = ok(await run(["dead", "list", ...on(prefix)]))
    assert.include(table.stdout, "Explode")
    assert.include(table.stdout, "retries are off for Explode")

    const [first, second] = listed
    const [shownRun, json, notDead, unknown] = await Promise.all([
      run(["dead", "show", first.id, ...on(prefix)], {}, 60_000),
      run(["dead", "show", first.id, "--json", ...on(prefix)], {}, 60_000),
      run(["retries", "show", first.id, ...on(prefix)], {}, 60_000),
      run(["dead", "show", "nosuch", ...on(prefix)], {}, 60_000)
    ])
    const shown = ok(shownRun).stdout
    assert.match(shown, new RegExp(`^ID +${first.id}$`, "m"))
    assert.match(shown, /^REASON +Defect: Error: (first|second) \(retries are off for Explode\)$/m, shown)
    assert.match(shown, /^PAYLOAD +\{"reason":"(first|second)"\}$/m)
    assert.match(shown, /^ {2}attempt 1, \S+: Defect: Error: (first|second)$/m)
    assert.match(shown, /^CAUSE of attempt 1\n {2}Error: (first|second)/m)
    assert.deepStrictEqual(JSON.parse(ok(json).stdout), first)
    assert.strictEqual(notDead.code, 1)
    assert.include(notDead.stderr, `job "${first.id}" is not in the retry set: it is dead`)
    assert.strictEqual(unknown.code, 1)
    assert.include(unknown.stderr, 'no job with id "nosuch"')
    assert.include(
      ok(await run(["dead", "retry", first.id, ...on(prefix)])).stdout,
      "1 of 1 job(s) moved to their queues"
    )
    assert.include(ok(await run(["dead", "delete", second.id, ...on(prefix)])).stdout, "1 of 1 job(s) deleted")
    const after = await stats(prefix)
    assert.strictEqual(after.dead, 0)
    assert.strictEqual(after.queues.find((q: any) => q.name === "default").size, 1)
    // The retried job runs again from its first attempt (its attempts were reset), and dies again.
    const again = worker(prefix)
    await again.waitFor(new RegExp(`exploding ${JSON.parse(first.payload).reason}`))
    assert.strictEqual((await statsUntil(prefix, (s) => s.dead === 1)).dead, 1)
    await stop(again)

    const missing = await run(["dead", "delete", second.id, ...on(prefix)])
    assert.strictEqual(missing.code, 1)
    assert.include(missing.stderr, "1 of the ids were not in the dead set")
  }, 240_000)

  it("holds the jobs of a paused queue until it is resumed", async () => {
    const prefix = newPrefix()
    ok(await run(["queues", "pause", "default", ...on(prefix)]))
    await enqueue(prefix, "Greet", { name: "held" })
    const listed = ok(await run(["queues", "list", ...on(prefix)]))
    assert.match(listed.stdout, /default\s+1\s+\S+( \S+)?\s+paused/)

    const running = worker(prefix)
    // The mailers job is claimed in the same fetch that skips the paused queue.
    await enqueue(prefix, "SendEmail", { to: "a@example.com", user: { id: 1 } })
    await running.waitFor(/mail to a@example.com/)
    assert.notInclude(running.stderr(), "hello held")
    assert.strictEqual((await stats(prefix)).queues.find((q: any) => q.name === "default").size, 1)

    ok(await run(["queues", "resume", "default", ...on(prefix)]))
    await running.waitFor(/hello held/)
    await stop(running)
  })

  it("retries --all of a snapshot and ends while the same jobs keep failing", async () => {
    const prefix = newPrefix()
    const total = 600
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-cli-"))
    const file = Path.join(dir, "explode.ndjson")
    Fs.writeFileSync(file, Array.from({ length: total }, (_, n) => JSON.stringify({ reason: `r${n}` })).join("\n"))
    const bulk = ok(await run(["enqueue", "Explode", "--jobs", fixtures.jobs, "--file", file, ...on(prefix)]))
    assert.include(bulk.stdout, `enqueued ${total} of ${total} jobs`)
    Fs.rmSync(dir, { recursive: true, force: true })

    // The worker stays up: every retried job fails again and lands back in the dead set.
    const running = start(["worker", "--jobs", fixtures.jobs, "-c", "25", ...on(prefix)])
    await statsUntil(prefix, (s) => s.dead === total)
    const retried = ok(await run(["dead", "retry", "--all", ...on(prefix)]))
    assert.match(retried.stdout, new RegExp(`^${total} of ${total} job\\(s\\) moved to their queues`))
    await statsUntil(prefix, (s) => s.dead === total && s.failed === 2 * total)
    assert.include(
      ok(await run(["dead", "delete", "--all", ...on(prefix)])).stdout,
      `${total} of ${total} job(s) deleted`
    )
    await stop(running)
    assert.strictEqual((await stats(prefix)).dead, 0)
  })

  it("writes 10,000 lines of --file in chunks of 500, envelopes of mixed jobs, times and ids too", async () => {
    const prefix = newPrefix()
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-cli-"))
    const envelopes = Path.join(dir, "envelopes.ndjson")
    const payloads = Path.join(dir, "payloads.ndjson")
    Fs.writeFileSync(
      envelopes,
      Array.from({ length: 10_000 }, (_, n) =>
        JSON.stringify({
          job: n % 2 === 0 ? "Greet" : "Explode",
          payload: n % 2 === 0 ? { name: `n${n}` } : { reason: `r${n}` },
          ...(n % 10 === 0 ? { id: `line-${n}` } : {}),
          ...(n % 7 === 0 ? { delay: "1h" } : {})
        })
      ).join("\n")
    )
    Fs.writeFileSync(payloads, Array.from({ length: 10_000 }, (_, n) => JSON.stringify({ name: `p${n}` })).join("\n"))
    // Script calls per file: a store call runs one or two scripts (id reservation, then the
    // write), so 20 chunks make about 40 (one per line made 10,000 and more).
    const scriptCalls = async (file: string, ...job: Array<string>) => {
      await command(redis.url, "CONFIG", "RESETSTAT")
      const result = ok(
        await run(["enqueue", ...job, "--jobs", fixtures.jobs, "--file", file, ...on(prefix)], {}, 60_000)
      )
      const info = String(await command(redis.url, "INFO", "commandstats"))
      return { result, calls: Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0) }
    }
    const mixed = await scriptCalls(envelopes)
    assert.include(mixed.result.stdout, "enqueued 10,000 of 10,000 jobs")
    assert.isAtMost(mixed.calls, 50, `${mixed.calls} script calls for 10,000 envelope lines`)
    const named = await scriptCalls(payloads, "Greet")
    assert.include(named.result.stdout, "enqueued 10,000 of 10,000 jobs")
    assert.isAtMost(named.calls, 50, `${named.calls} script calls for 10,000 payload lines`)
    const after = await stats(prefix)
    assert.strictEqual(after.scheduled, 1429)
    assert.strictEqual(after.queues.find((q: any) => q.name === "default").size, 20_000 - 1429)
    Fs.rmSync(dir, { recursive: true, force: true })
  }, 180_000)

  it("lists and deletes scheduled jobs", async () => {
    const prefix = newPrefix()
    // A jobs module that holds the event loop open: the enqueue still exits once done.
    const payload = JSON.stringify({ name: "later" })
    ok(
      await run([
        "enqueue",
        "Greet",
        "--jobs",
        fixtures.holdsHandle,
        "--payload",
        payload,
        "--delay",
        "1h",
        ...on(prefix)
      ])
    )
    await enqueue(prefix, "Greet", { name: "much later" }, "--at", "2099-01-01T00:00:00Z")
    const listed = ok(await run(["scheduled", "list", ...on(prefix)]))
    // A scheduled job has not run: no attempt or error column, when it was enqueued instead.
    assert.match(listed.stdout, /^ID +JOB +QUEUE +DUE +ENQUEUED$/m)
    assert.match(listed.stdout, /Greet +default +in 59 min \d+ s +.+ ago$/m)
    assert.include(listed.stderr, "showing 1-2 of 2")
    const [later] = ok(await run(["scheduled", "list", "--json", ...on(prefix)]))
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    const shown = ok(await run(["scheduled", "show", later.id, ...on(prefix)])).stdout
    assert.match(shown, /^DUE +\S+ \(in 59 min \d+ s\)$/m)
    assert.notInclude(shown, "ATTEMPTS")
    assert.include(ok(await run(["scheduled", "delete", "--all", ...on(prefix)])).stdout, "2 of 2 job(s) deleted")
    assert.strictEqual((await stats(prefix)).scheduled, 0)
  }, 120_000)

  it("prints a snapshot per interval with stats --watch until interrupted, then exits 0", async () => {
    const prefix = newPrefix()
    await enqueue(prefix, "Greet", { name: "waiting" })
    const watching = start(["stats", "--watch", "--json", "--interval", "100ms", ...on(prefix)])
    await watching.waitFor(/"processed"[\s\S]*\n[\s\S]*"processed"/)
    watching.kill("SIGINT")
    const result = await watching.exit
    assert.strictEqual(result.code, 0)
    const snapshots = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
    assert.isAtLeast(snapshots.length, 2)
    assert.strictEqual(snapshots[0].queues[0].size, 1)
  })

  it("gives up on an unreachable Redis with --fail-fast, naming the URL without its password", async () => {
    const result = await run([
      "stats",
      "--redis",
      "redis://:hunter2@127.0.0.1:1",
      "--fail-fast",
      "--connect-timeout",
      "500ms"
    ])
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, "cannot reach redis://:****@127.0.0.1:1")
    assert.include(result.stderr, "ECONNREFUSED")
    assert.notInclude(result.stderr + result.stdout, "hunter2")
  })

  it("gives up on an unreachable Redis after --connect-timeout for read-only commands, saying after how long", async () => {
    const [stats, list] = await Promise.all([
      run(["stats", "--redis", "redis://127.0.0.1:1"]),
      run(["dead", "list", "--redis", "redis://127.0.0.1:1", "--connect-timeout", "300ms"])
    ])
    for (const result of [stats, list]) assert.strictEqual(result.code, 1, result.stderr)
    assert.include(stats.stderr, "cannot reach redis://127.0.0.1:1")
    assert.include(stats.stderr, "gave up after 5.0 s")
    assert.include(list.stderr, "gave up after 300 ms")
  })

  it("keeps retrying an unreachable Redis without --fail-fast for a command that changes jobs, saying so", async () => {
    const running = start([
      "queues",
      "pause",
      "default",
      "--redis",
      "redis://:hunter2@127.0.0.1:1",
      "--log-format",
      "json"
    ])
    await running.waitFor(/cannot reach redis:\/\/:\*\*\*\*@127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); retrying in/)
    running.kill("SIGINT")
    const result = await running.exit
    assert.strictEqual(result.code, 130)
    assert.notInclude(result.stderr, "hunter2")
  })
})
