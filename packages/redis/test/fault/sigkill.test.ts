import { assert, describe, it } from "@effect/vitest"
import { uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, killWorker, runCounts, sleep, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

describe("fault: SIGKILL", () => {
  it("completes every job at least once while workers are killed again and again", { timeout: 120_000 }, async () => {
    const server = await startServer()
    const prefix = uniquePrefix("sigkill")
    const client = storeClient(server.url, prefix)
    const total = 10_000
    const numbers = Array.from({ length: total }, (_, n) => n)
    for (let start = 0; start < total; start += 1_000) await client.enqueue(numbers.slice(start, start + 1_000), 15)
    const settings = { url: server.url, prefix, concurrency: 10, leaseMillis: 1_000, reapMillis: 250 }
    for (let i = 0; i < 3; i++) workers.push(startWorker(settings))
    await Promise.all(workers.map((w) => w.ready))

    const began = Date.now()
    let kills = 0
    while (Date.now() - began < 20_000) {
      await sleep(800)
      const stats = await client.stats()
      if (stats.processed >= total) break
      // Kill running workers only: one killed while starting up holds no job.
      const alive = workers.filter((w) => w.alive() && w.isReady())
      const victim = alive[Math.floor(Math.random() * alive.length)]
      if (victim === undefined) continue
      await killWorker(victim)
      kills++
      workers.push(startWorker(settings))
    }
    const finished = await waitFor(async () => {
      const stats = await client.stats()
      return stats.processed === total && drained(stats)
    }, 20_000)
    const stats = await client.stats()
    const counts = await runCounts(server.url, prefix)
    // A run counts when its handler reached its end: a run started and killed is no proof.
    const completed = await runCounts(server.url, prefix, "done")
    await client.dispose()
    const missing = numbers.filter((n) => (completed.get(n) ?? 0) === 0)
    const duplicates = [...counts.values()].reduce((sum, runs) => sum + runs - 1, 0)
    console.log(
      `SIGKILL: ${kills} workers killed during ${((Date.now() - began) / 1000).toFixed(1)} s; ${total} jobs, ` +
        `${missing.length} never completed, ${duplicates} started more than once (at least once is the guarantee)`
    )
    assert.isTrue(finished, `not drained: ${JSON.stringify(stats)}`)
    assert.isAtLeast(kills, 3)
    assert.deepStrictEqual(missing, [], `${missing.length} jobs never completed a run`)
    assert.strictEqual(completed.size, total)
    assert.strictEqual(stats.processed, total)
    assert.strictEqual(stats.leased, 0)
    assert.strictEqual(stats.dead, 0)
  })
})
