import { assert, describe, it } from "@effect/vitest"
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy.ts"
import { command, uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, runCounts, sleep, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

/** How often each `Once` job (`retry: false`) ran. */
const onceCounts = async (url: string, prefix: string): Promise<Map<number, number>> => {
  const reply = (await command(url, "HGETALL", `${prefix}:test:once`)) as Array<string>
  const counts = new Map<number, number>()
  for (let i = 0; i + 1 < reply.length; i += 2) counts.set(Number(reply[i]), Number(reply[i + 1]))
  return counts
}

describe("fault: connections cut at random", () => {
  let proxy: TcpProxy | undefined
  it("loses no job and kills no retry: false job that never ran while a proxy cuts workers' connections for 30 s", {
    timeout: 120_000
  }, async () => {
    const server = await startServer()
    proxy = await startTcpProxy(server.port)
    const prefix = uniquePrefix("cuts")
    // The test's own client goes straight to Redis: only the workers' connections are cut.
    const client = storeClient(server.url, prefix)
    const settings = {
      url: proxy.url,
      prefix,
      concurrency: 10,
      // Long enough that renewals failing across a few cuts in a row do not lose a running job's
      // lease (a job stopped that way mid-run may die, rightly, and looks as if it never ran).
      leaseMillis: 5_000,
      reapMillis: 500,
      commandTimeoutMillis: 500
    }
    for (let i = 0; i < 3; i++) workers.push(startWorker(settings))
    await Promise.all(workers.map((w) => w.ready))

    const chaosMillis = 30_000
    const began = Date.now()
    let next = 0
    let cuts = 0
    const work: Array<number> = []
    const once: Array<number> = []
    while (Date.now() - began < chaosMillis) {
      // Load: 150 jobs every 300 ms, one in five a `retry: false` job.
      const batch = Array.from({ length: 150 }, () => next++)
      await client.use((store) =>
        store.enqueue(
          batch.map((n) => {
            const isOnce = n % 5 === 0
            ;(isOnce ? once : work).push(n)
            return {
              id: `j${n}`,
              name: isOnce ? "Once" : "Work",
              queue: "default",
              payload: JSON.stringify({ n, millis: 5 })
            }
          })
        )
      )
      await sleep(100 + Math.random() * 400)
      cuts += proxy.cut(0.3)
    }
    const finished = await waitFor(
      async () => {
        const stats = await client.stats()
        return drained(stats) && stats.processed + stats.dead >= next
      },
      45_000,
      200
    )
    const stats = await client.stats()
    const counts = await runCounts(server.url, prefix)
    const onces = await onceCounts(server.url, prefix)
    const dead = await client.use((store) => store.list("dead", { offset: 0, limit: 10_000 }))
    await client.dispose()
    await proxy.close()
    const missing = work.filter((n) => (counts.get(n) ?? 0) === 0)
    const deadUnrun = dead.jobs.filter((job) => (onces.get(Number(job.id.slice(1))) ?? 0) === 0)
    const onceMissing = once.filter((n) => (onces.get(n) ?? 0) === 0)
    const duplicates =
      [...counts.values()].reduce((sum, runs) => sum + runs - 1, 0) +
      [...onces.values()].reduce((sum, runs) => sum + runs - 1, 0)
    console.log(
      `connections cut at random for ${chaosMillis / 1000} s: ${cuts} connections cut; ${next} jobs ` +
        `(${once.length} retry: false); ${missing.length + onceMissing.length} never ran; ${dead.total} dead ` +
        `(${deadUnrun.length} of them never ran${deadUnrun.map((job) => `: ${job.id} ${job.deadReason}`).join("")}); ` +
        `${duplicates} runs more than once; ${stats.processed} acknowledged`
    )
    assert.isTrue(finished, `not drained: ${JSON.stringify(stats)}`)
    assert.isAtLeast(cuts, 20)
    assert.deepStrictEqual(missing, [])
    assert.deepStrictEqual(onceMissing, [])
    assert.deepStrictEqual(
      deadUnrun.map((job) => `${job.id}: ${job.deadReason}`),
      []
    )
    assert.strictEqual(stats.leased, 0)
    for (const worker of workers) assert.isTrue(worker.alive(), `${worker.name} crashed:\n${worker.output()}`)
  })
})
