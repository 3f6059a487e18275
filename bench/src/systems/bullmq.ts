/**
 * The BullMQ driver, configured to keep the guarantees effect-jobs keeps: locks with renewal
 * and stalled-job checks at their defaults, 25 retries for ordinary jobs, failed jobs kept
 * (the last 10,000, like effect-jobs' dead set), completed jobs deleted at once (effect-jobs
 * deletes them too and keeps only a counter).
 */
import { Queue, Worker } from "bullmq"
import { nowMillis, type Payload, type ProducerWork, queueName } from "../protocol.ts"
import { dueTime, type Producer, type RunningWorker, type System, type WorkerOptions } from "./System.ts"

const connection = (url: string) => {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port), maxRetriesPerRequest: null }
}

const noopOptions = { attempts: 26, backoff: { type: "exponential", delay: 1000 } } as const
const failOnceOptions = { attempts: 2, backoff: { type: "fixed", delay: 1 } } as const

const fresh = (f = 0): Payload => ({ t: nowMillis(), d: 0, f })

/** Runs `count` calls of `one` with `inFlight` outstanding at all times. */
const pool = async (count: number, inFlight: number, one: (i: number) => Promise<unknown>) => {
  let next = 0
  const lane = async () => {
    while (next < count) await one(next++)
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane))
}

const producer = async (url: string): Promise<Producer> => {
  const queue = new Queue(queueName, { connection: connection(url) })
  await queue.waitUntilReady()
  const add = (data: Payload, delay = 0) => queue.add("noop", data, delay > 0 ? { ...noopOptions, delay } : noopOptions)
  const run = async (task: ProducerWork, replied: (issuedAt: number) => void): Promise<number> => {
    switch (task.kind) {
      case "sequential":
        for (let i = 0; i < task.count; i++) await add(fresh())
        return task.count
      case "concurrent":
        await pool(task.count, task.inFlight, () => add(fresh()))
        return task.count
      case "bulk": {
        const name = task.job === "failOnce" ? "failOnce" : "noop"
        const opts = task.job === "failOnce" ? failOnceOptions : noopOptions
        const f = task.job === "failOnce" ? 1 : 0
        for (let start = 0; start < task.count; start += task.chunk) {
          const size = Math.min(task.chunk, task.count - start)
          await queue.addBulk(Array.from({ length: size }, () => ({ name, data: fresh(f), opts })))
        }
        return task.count
      }
      case "steady": {
        // Single adds issued on a 1 ms tick at the target rate, each stamped as it is issued.
        const total = Math.round(task.rate * task.seconds)
        const pending: Array<Promise<unknown>> = []
        const start = nowMillis()
        let issued = 0
        while (issued < total) {
          const due = Math.min(total, Math.floor(((nowMillis() - start) * task.rate) / 1000) + 1)
          for (; issued < due; issued++) {
            const payload = fresh()
            pending.push(add(payload).then(() => replied(payload.t)))
          }
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
        await Promise.all(pending)
        return total
      }
      case "scheduled": {
        const first = Math.ceil(nowMillis() + task.leadMillis)
        await pool(task.count, task.inFlight, (i) => {
          const due = dueTime(first, i, task.count, task.spreadMillis)
          // BullMQ takes a delay relative to its own Date.now() at add time.
          return add({ t: nowMillis(), d: due, f: 0 }, Math.max(1, Math.round(due - Date.now())))
        })
        return task.count
      }
    }
  }
  return { run, close: () => queue.close() }
}

const worker = async ({ concurrency, onJob, url }: WorkerOptions): Promise<RunningWorker> => {
  const w = new Worker<Payload>(
    queueName,
    async (job) => {
      if (onJob(job.data, job.attemptsMade + 1)) throw new Error(`attempt ${job.attemptsMade + 1} fails`)
    },
    {
      connection: connection(url),
      concurrency,
      autorun: false,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 10_000 }
    }
  )
  w.on("error", (error) => console.error("BullMQ worker error:", error))
  await w.waitUntilReady()
  let running: Promise<void> | undefined
  return {
    start: () => {
      running = w.run()
    },
    close: async () => {
      await w.close()
      await running
    }
  }
}

export const system: System = { name: "bullmq", producer, worker }
