import { assert, describe, it } from "@effect/vitest"
import { type RedisServer, startRedisServer, uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, runCounts, sleep, startWorker, storeClient, waitFor } from "./helpers.ts"

const { servers, workers } = faultProcesses()

describe("fault: Redis crash", () => {
  it("completes every acknowledged enqueue after kill -9 of Redis (AOF, fsync always) and a restart", {
    timeout: 60_000
  }, async () => {
    const first = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always"] })
    servers.push(first)
    const url = first.url
    const prefix = uniquePrefix("crash")
    const settings = { url, prefix, concurrency: 10, leaseMillis: 2_000, reapMillis: 300 }
    for (let i = 0; i < 2; i++) workers.push(startWorker(settings))
    await Promise.all(workers.map((w) => w.ready))
    const client = storeClient(url, prefix)

    const acknowledged: Array<number> = []
    let refused = 0
    let next = 0
    const began = Date.now()
    let crashed = false
    let restarted: Promise<RedisServer> | undefined
    while (Date.now() - began < 6_000) {
      const elapsed = Date.now() - began
      if (!crashed && elapsed > 1_500) {
        crashed = true
        await first.crash()
        // Back on the same port and directory, loading the AOF, after longer than a command may wait (2 s).
        restarted = sleep(2_500).then(() => first.restart())
      }
      const batch = [next, next + 1, next + 2, next + 3, next + 4]
      next += 5
      const ok = await client.enqueue(batch, 5).then(
        () => true,
        () => false
      )
      if (ok) acknowledged.push(...batch)
      else refused += batch.length
      await sleep(20)
    }
    const second = await restarted!
    servers.push(second)
    const done = await waitFor(async () => {
      const counts = await runCounts(url, prefix)
      return acknowledged.every((n) => (counts.get(n) ?? 0) > 0) && drained(await client.stats())
    }, 30_000)
    const counts = await runCounts(url, prefix)
    const stats = await client.stats()
    await client.dispose()
    const lost = acknowledged.filter((n) => (counts.get(n) ?? 0) === 0)
    const duplicates = [...counts.values()].reduce((sum, runs) => sum + runs - 1, 0)
    console.log(
      `Redis crash: ${acknowledged.length} enqueues acknowledged, ${refused} refused while Redis was down; ` +
        `${lost.length} acknowledged jobs lost, ${duplicates} ran more than once`
    )
    assert.isTrue(done, `not all acknowledged jobs completed: ${JSON.stringify(stats)}`)
    assert.deepStrictEqual(lost, [])
    assert.isAbove(refused, 0, "the outage was seen by the producer")
    assert.isTrue(drained(stats), JSON.stringify(stats))
    for (const worker of workers) assert.isTrue(worker.alive(), `${worker.name} kept running:\n${worker.output()}`)
    assert.isTrue(
      workers.some((w) => w.output().includes("reconnected to")),
      workers.map((w) => w.output()).join("\n")
    )
  })
})
