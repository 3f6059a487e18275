import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { command, uniquePrefix } from "../helpers/redisServer.ts"
import { drained, faultProcesses, runCounts, startWorker, storeClient, waitFor } from "./helpers.ts"

const { startServer, workers } = faultProcesses()

describe("fault: SIGSTOP", () => {
  it("runs a job again elsewhere when its worker stalls past the lease; the stalled worker's late settlement is refused while the job runs there", {
    timeout: 60_000
  }, async () => {
    const server = await startServer()
    const url = server.url
    const prefix = uniquePrefix("sigstop")
    const client = storeClient(url, prefix)
    const millis = 1_500
    const settings = { url, prefix, concurrency: 1, leaseMillis: 1_000, reapMillis: 200 }
    const stalled = startWorker(settings)
    workers.push(stalled)
    await stalled.ready
    await client.enqueue([0], millis)
    assert.isTrue(await waitFor(async () => (await runCounts(url, prefix)).get(0) === 1, 10_000), "job started")
    const firstRunStarted = Date.now()
    assert.strictEqual(await command(url, "HGET", `${prefix}:test:by`, "0"), stalled.name)

    stalled.child.kill("SIGSTOP")
    // The other worker is slow (each run takes 8 s longer), so the job is still running there,
    // under the other worker's lease, when the stalled worker's settlement arrives.
    const other = startWorker({ ...settings, extraMillis: 8_000 })
    workers.push(other)
    await other.ready
    assert.isTrue(
      await waitFor(async () => (await runCounts(url, prefix)).get(0) === 2, 15_000),
      "the other worker reaped the lease and runs the job"
    )
    assert.strictEqual(await command(url, "HGET", `${prefix}:test:by`, "0"), other.name)
    // Resumed once its own run is over, the stalled worker settles at once.
    assert.isTrue(await waitFor(async () => Date.now() - firstRunStarted > millis + 100, 10_000))
    stalled.child.kill("SIGCONT")
    const settlement = /^SETTLE (\w+) j0 (\S+)$/m
    assert.isTrue(
      await waitFor(async () => settlement.test(stalled.output()), 10_000),
      `the stalled worker settled its run:\n${stalled.output()}`
    )
    const [, op, held] = settlement.exec(stalled.output())!
    const during = await client.stats()
    const job = await client.use((store) => store.get("j0"))
    console.log(`SIGSTOP: the stalled worker's late ${op} was answered held=${held}`)

    assert.strictEqual(held, "0", `the late ${op} was refused`)
    assert.isTrue(Option.isSome(job), "the job still exists")
    assert.strictEqual(Option.getOrThrow(job).state, "leased", "still leased to the other worker")
    assert.strictEqual(Option.getOrThrow(job).attempt, 2)
    assert.strictEqual(during.processed, 0, "the late settlement completed nothing")
    assert.strictEqual(during.failed, 0)
    assert.strictEqual(during.leased, 1)

    // The other worker's run completes the job: once, under its own lease.
    assert.isTrue(await waitFor(async () => (await client.stats()).processed === 1, 20_000), "the other run completed")
    const stats = await client.stats()
    const counts = await runCounts(url, prefix)
    const after = await client.use((store) => store.get("j0"))
    await client.dispose()
    assert.isTrue(stalled.alive(), "the stalled worker survives")
    assert.strictEqual(counts.get(0), 2, "ran once on each worker, not a third time")
    assert.strictEqual(stats.processed, 1)
    assert.strictEqual(stats.failed, 0)
    assert.isTrue(drained(stats), JSON.stringify(stats))
    assert.isTrue(Option.isNone(after), "the job is completed")
  })
})
