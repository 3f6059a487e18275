import { assert, describe, it } from "@effect/vitest"
import { command, uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, runCounts, sleep, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

describe("fault: CLIENT PAUSE", () => {
  it("survives Redis pausing every client for longer than the lease, and completes every job", {
    timeout: 60_000
  }, async () => {
    const server = await startServer()
    const url = server.url
    const prefix = uniquePrefix("pause")
    const client = storeClient(url, prefix)
    const total = 2_000
    const numbers = Array.from({ length: total }, (_, n) => n)
    await client.enqueue(numbers.slice(0, 1_000), 10)
    await client.enqueue(numbers.slice(1_000), 10)
    const leaseMillis = 1_000
    const settings = { url, prefix, concurrency: 10, leaseMillis, reapMillis: 300 }
    for (let i = 0; i < 2; i++) workers.push(startWorker(settings))
    await Promise.all(workers.map((w) => w.ready))
    await waitFor(async () => (await runCounts(url, prefix)).size > 100, 10_000)

    const pauseMillis = 2.5 * leaseMillis
    assert.strictEqual(await command(url, "CLIENT", "PAUSE", pauseMillis, "ALL"), "OK")
    await sleep(pauseMillis)
    const done = await waitFor(
      async () => {
        const stats = await client.stats().catch(() => undefined)
        if (stats === undefined || !drained(stats) || stats.processed < total) return false
        const counts = await runCounts(url, prefix)
        return numbers.every((n) => (counts.get(n) ?? 0) > 0)
      },
      30_000,
      100
    )
    const stats = await client.stats()
    const counts = await runCounts(url, prefix)
    await client.dispose()
    const duplicates = [...counts.values()].reduce((sum, runs) => sum + runs - 1, 0)
    console.log(
      `CLIENT PAUSE ${pauseMillis} ms (lease ${leaseMillis} ms): ${total} jobs, ${counts.size} ran, ` +
        `${duplicates} ran more than once, ${stats.processed} acknowledged`
    )
    assert.isTrue(done, `not drained: ${JSON.stringify(stats)}`)
    assert.strictEqual(stats.processed, total)
    assert.strictEqual(stats.dead, 0)
    for (const worker of workers) assert.isTrue(worker.alive(), `${worker.name} crashed:\n${worker.output()}`)
  })
})
