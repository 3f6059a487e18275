/**
 * A worker process: connects, says `ready`, starts claiming on `go`, shuts down gracefully
 * on `stop` and reports handler runs, pickup latency and lateness, CPU and peak RSS.
 * CPU and RSS cover `go` to `stop`; graceful shutdown is not measured. Started by `main.ts`.
 */
import { die, finish, listen, Samples, send, startUsage, taskArgument } from "./child.ts"
import { firstJob, nowMillis, type WorkerTask } from "./protocol.ts"
import { load } from "./systems/System.ts"

const main = async () => {
  const task = taskArgument<WorkerTask>()
  const system = await load(task.system)
  const pickup = new Samples()
  const lateness = new Samples()
  let runs = 0
  let firstRuns = 0
  const worker = await system.worker({
    url: task.url,
    concurrency: task.concurrency,
    onJob: (payload, attempt) => {
      const now = nowMillis()
      if (runs === 0 && task.startAtOnce) void send(firstJob(now))
      runs++
      if (attempt === 1) {
        firstRuns++
        pickup.push(now - payload.t)
        if (payload.d > 0) lateness.push(now - payload.d)
      }
      return payload.f === 1 && attempt === 1
    }
  })
  let usage: (() => ReturnType<ReturnType<typeof startUsage>>) | undefined
  listen(async (message) => {
    try {
      if (message.type === "go") {
        usage = startUsage()
        worker.start()
      } else if (message.type === "stop") {
        // The measured window ends here: graceful shutdown is not part of the drain.
        const used = (usage ?? startUsage())()
        const heapUsedBytes = process.memoryUsage().heapUsed
        // With --expose-gc (the harness passes it), what the worker still holds after the drain.
        const gc = (globalThis as { gc?: () => void }).gc
        gc?.()
        const heapAfterGcBytes = gc === undefined ? Number.NaN : process.memoryUsage().heapUsed
        await worker.close()
        // Handlers that ran in another process (Sidekiq): its own counts, samples and usage.
        const report = worker.report?.()
        let measured = { ...used, heapUsedBytes, heapAfterGcBytes }
        if (report !== undefined) {
          runs = report.runs
          firstRuns = report.firstRuns
          for (const ms of report.pickup) pickup.push(ms)
          for (const ms of report.lateness) lateness.push(ms)
          const { cpuSeconds, cpuSystemSeconds, maxRssBytes, peakRssBytes, startRssBytes } = report
          const heap = { heapUsedBytes: Number.NaN, heapAfterGcBytes: Number.NaN }
          measured = { cpuSeconds, cpuSystemSeconds, maxRssBytes, peakRssBytes, startRssBytes, ...heap }
        }
        await send({
          type: "result",
          runs,
          firstRuns,
          pickup: pickup.distribution(),
          lateness: lateness.distribution(),
          ...measured
        })
        finish()
      }
    } catch (error) {
      die(error)
    }
  })
  if (task.startAtOnce) {
    usage = startUsage()
    worker.start()
  }
  await send({ type: "ready" })
}

main().catch(die)
