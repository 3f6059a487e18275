import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { command, uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, runCounts, sleep, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

describe("fault: SIGSTOP", () => {
  it("runs a job again elsewhere when its worker stalls past the lease; the late settlement changes nothing", {
    timeout: 30_000
  }, async () => {
    const server = await startServer()
    const url = server.url
    const prefix = uniquePrefix("sigstop")
    const client = storeClient(url, prefix)
    const settings = { url, prefix, concurrency: 1, leaseMillis: 1_000, reapMillis: 200 }
    const stalled = startWorker(settings)
    workers.push(stalled)
    await stalled.ready
    await client.enqueue([0], 1_500)
    assert.isTrue(await waitFor(async () => (await runCounts(url, prefix)).get(0) === 1, 10_000), "job started")
    assert.strictEqual(await command(url, "HGET", `${prefix}:test:by`, "0"), stalled.name)

    stalled.child.kill("SIGSTOP")
    const other = startWorker(settings)
    workers.push(other)
    await other.ready
    assert.isTrue(
      await waitFor(async () => (await client.stats()).processed === 1, 15_000),
      "the other worker reaped the lease, ran the job and acknowledged it"
    )
    assert.strictEqual(await command(url, "HGET", `${prefix}:test:by`, "0"), other.name)

    stalled.child.kill("SIGCONT")
    // Give the resumed worker time to renew (and learn it lost the lease) and to settle its run.
    await sleep(2_000)
    const stats = await client.stats()
    const counts = await runCounts(url, prefix)
    const job = await client.use((store) => store.get("j0"))
    await client.dispose()
    console.log(`SIGSTOP: job ran ${counts.get(0)} times; stalled worker's output:\n${stalled.output().trim()}`)

    assert.isTrue(stalled.alive(), "the stalled worker survives")
    assert.strictEqual(counts.get(0), 2, "ran once on each worker, not a third time")
    assert.strictEqual(stats.processed, 1, "the late settlement counted nothing")
    assert.strictEqual(stats.failed, 0)
    assert.isTrue(drained(stats), JSON.stringify(stats))
    assert.isTrue(Option.isNone(job), "the job stays completed")
  })
})
