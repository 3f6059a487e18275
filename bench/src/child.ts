/**
 * What producer and worker children share: the IPC channel, usage accounting from `go` on,
 * and a growable sample of milliseconds with percentiles.
 */
import type { ChildMessage, Distribution, ParentMessage, ProcessUsage } from "./protocol.ts"

/** The task the parent passed as the first argument. */
export const taskArgument = <T>(): T => {
  const text = process.argv[2]
  if (text === undefined) throw new Error("expected the task as a JSON argument; the harness (src/main.ts) starts this")
  return JSON.parse(text) as T
}

/** Sends a message to the parent, resolving once it is written. */
export const send = (message: ChildMessage): Promise<void> =>
  new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error("no IPC channel: the harness (src/main.ts) starts this"))
      return
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()))
  })

/** Calls `on` for each parent message. */
export const listen = (on: (message: ParentMessage) => void): void => {
  process.on("message", (message) => on(message as ParentMessage))
}

/** CPU and RSS of this process from now on. */
export const startUsage = () => {
  const cpu = process.cpuUsage()
  const startRssBytes = process.memoryUsage.rss()
  let peakRssBytes = startRssBytes
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())
  }, 20)
  sampler.unref()
  return (): ProcessUsage => {
    clearInterval(sampler)
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())
    const used = process.cpuUsage(cpu)
    return {
      cpuSeconds: (used.user + used.system) / 1e6,
      cpuSystemSeconds: used.system / 1e6,
      peakRssBytes,
      startRssBytes,
      maxRssBytes: process.resourceUsage().maxRSS * 1024
    }
  }
}

/** Ends the process once pending output is flushed (the IPC message is already sent). */
export const finish = (code = 0): void => {
  process.disconnect?.()
  setTimeout(() => process.exit(code), 50).unref()
}

/** Fails the child loudly: the parent shows stderr. */
export const die = (error: unknown): never => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exit(1)
}

/** Milliseconds collected one by one. */
export class Samples {
  private values = new Float64Array(1024)
  private size = 0

  push(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.size++] = value
  }

  /** Nearest-rank percentiles. */
  distribution(): Distribution {
    const sorted = this.values.slice(0, this.size).sort()
    const n = sorted.length
    if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 }
    const rank = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!
    let sum = 0
    for (const v of sorted) sum += v
    return { count: n, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted[n - 1]!, mean: sum / n }
  }
}
