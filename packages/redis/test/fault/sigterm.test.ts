import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { uniquePrefix } from "../helpers/redisServer.ts"
import { faultProcesses, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

describe("fault: SIGTERM", () => {
  it("shuts down within the shutdown timeout and puts running jobs back without an attempt", {
    timeout: 30_000
  }, async () => {
    const server = await startServer()
    const prefix = uniquePrefix("sigterm")
    const client = storeClient(server.url, prefix)
    const shutdownMillis = 1_000
    // A long lease: the jobs must come back from the shutdown itself, not from the reaper.
    const worker = startWorker({ url: server.url, prefix, concurrency: 5, leaseMillis: 60_000, shutdownMillis })
    workers.push(worker)
    await worker.ready
    await client.enqueue([0, 1, 2, 3, 4], 60_000)
    assert.isTrue(await waitFor(async () => (await client.stats()).leased === 5, 10_000), "all 5 jobs running")

    const signalled = Date.now()
    worker.child.kill("SIGTERM")
    const exit = await worker.exited
    const tookMillis = Date.now() - signalled
    const stats = await client.stats()
    const jobs = await Promise.all([0, 1, 2, 3, 4].map((n) => client.use((store) => store.get(`j${n}`))))
    await client.dispose()
    console.log(
      `SIGTERM: worker exited ${tookMillis} ms after the signal (shutdown timeout ${shutdownMillis} ms); ` +
        `signalled at ${new Date(signalled).toISOString()}, its output:\n${worker.output().trim()}`
    )

    assert.strictEqual(exit.code, 0, worker.output())
    assert.isAtMost(tookMillis, shutdownMillis + 1_000)
    assert.strictEqual(stats.leased, 0)
    assert.strictEqual(stats.queues.find((q) => q.name === "default")?.size, 5)
    assert.strictEqual(stats.failed, 0)
    for (const job of jobs) {
      const stored = Option.getOrThrow(job)
      assert.strictEqual(stored.state, "ready")
      assert.strictEqual(stored.attempt, 0, `${stored.id} got its attempt back`)
    }
  })
})
