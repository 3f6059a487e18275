/**
 * Fault-test plumbing: worker processes (`worker.ts`) and a store client in the test process.
 *
 * Everything runs against a `redis-server` the test starts itself; workers are real `node`
 * processes, so they can be SIGKILLed, SIGSTOPped and SIGTERMed.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterEach } from "@effect/vitest"
import { QueueStore } from "@effect-jobs/core"
import { type Effect, Layer, ManagedRuntime, References } from "effect"
import * as RedisBackend from "../../src/RedisBackend.ts"
import { command, type RedisServer, startRedisServer } from "../helpers/redisServer.ts"

const script = fileURLToPath(new URL("./worker.ts", import.meta.url))

/** A worker process. */
export interface WorkerProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Resolves once the worker printed READY. */
  readonly ready: Promise<void>
  /** Resolves with how it ended. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Everything it printed so far. */
  readonly output: () => string
  readonly alive: () => boolean
  readonly isReady: () => boolean
}

/** Worker settings (see `worker.ts`). */
export interface WorkerSettings {
  readonly url: string
  readonly prefix: string
  readonly concurrency?: number
  readonly leaseMillis?: number
  readonly reapMillis?: number
  readonly shutdownMillis?: number
  readonly commandTimeoutMillis?: number
  /** Added to every run's `millis` on this worker (a slow worker). */
  readonly extraMillis?: number
}

let started = 0

// A test that times out never runs its cleanup: kill its workers when the test process exits.
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Starts a worker process; `ready` resolves when it runs. */
export const startWorker = (settings: WorkerSettings): WorkerProcess => {
  const name = `w${++started}`
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      REDIS_URL: settings.url,
      PREFIX: settings.prefix,
      NAME: name,
      CONCURRENCY: String(settings.concurrency ?? 10),
      LEASE_MS: String(settings.leaseMillis ?? 30_000),
      REAP_MS: String(settings.reapMillis ?? 5_000),
      SHUTDOWN_MS: String(settings.shutdownMillis ?? 25_000),
      COMMAND_TIMEOUT_MS: String(settings.commandTimeoutMillis ?? 2_000),
      EXTRA_MS: String(settings.extraMillis ?? 0)
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.add(child)
  child.once("exit", () => running.delete(child))
  let output = ""
  let isReady = false
  let markReady: () => void = () => {}
  let failReady: (error: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    failReady = reject
  })
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    if (!isReady && /^READY$/m.test(output)) {
      isReady = true
      markReady()
    }
  }
  child.stdout?.on("data", onData)
  child.stderr?.on("data", onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      failReady(new Error(`worker ${name} exited (${code ?? signal}) before READY:\n${output}`))
      resolve({ code, signal })
    })
  )
  // Nobody may be waiting for a worker that is killed before it is ready.
  ready.catch(() => {})
  return {
    name,
    child,
    ready,
    isReady: () => isReady,
    exited,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null
  }
}

/** Kills a worker with SIGKILL unless it has ended, and waits for it. */
export const killWorker = async (worker: WorkerProcess): Promise<void> => {
  if (worker.alive()) worker.child.kill("SIGKILL")
  await worker.exited
}

/** A store client in the test process (enqueue and inspect), closed with `dispose`. */
export const storeClient = (url: string, prefix: string) => {
  const runtime = ManagedRuntime.make(
    RedisBackend.layer({ url, prefix, allowEviction: true }).pipe(
      Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  const use = <A, E>(f: (store: QueueStore.QueueStore["Service"]) => Effect.Effect<A, E>) =>
    runtime.runPromise(QueueStore.QueueStore.use(f))
  return {
    use,
    /** Enqueues `Work` jobs `j<n>` for the numbers given, in chunks; returns the ids acknowledged. */
    enqueue: (numbers: ReadonlyArray<number>, millis: number) =>
      use((store) =>
        store.enqueue(
          numbers.map((n) => ({
            id: `j${n}`,
            name: "Work",
            queue: "default",
            payload: JSON.stringify({ n, millis })
          }))
        )
      ),
    stats: () => use((store) => store.stats),
    dispose: () => runtime.dispose()
  }
}

/**
 * How often each job number ran, from the counters the workers keep in Redis: runs started
 * (`"runs"`, the default) or runs completed (`"done"`: the handler reached its end).
 */
export const runCounts = async (
  url: string,
  prefix: string,
  which: "runs" | "done" = "runs"
): Promise<Map<number, number>> => {
  const reply = (await command(url, "HGETALL", `${prefix}:test:${which}`)) as Array<string>
  const counts = new Map<number, number>()
  for (let i = 0; i + 1 < reply.length; i += 2) counts.set(Number(reply[i]), Number(reply[i + 1]))
  return counts
}

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** Waits until `check` holds, polling every `every` ms; false when `millis` pass first. */
export const waitFor = async (check: () => Promise<boolean>, millis: number, every = 50): Promise<boolean> => {
  const deadline = Date.now() + millis
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await sleep(every)
  }
}

/** True when nothing is left anywhere in the store: no ready, leased, scheduled or retry job. */
export const drained = (stats: QueueStore.StoreStats): boolean =>
  stats.leased === 0 && stats.scheduled === 0 && stats.retry === 0 && stats.queues.every((q) => q.size === 0)

/**
 * The processes a fault test starts, ended by pid after each test: workers first (stopped
 * ones are resumed so they can be killed), then the test's own Redis servers.
 */
export const faultProcesses = () => {
  const workers: Array<WorkerProcess> = []
  const servers: Array<RedisServer> = []
  afterEach(async () => {
    for (const worker of workers) if (worker.alive()) worker.child.kill("SIGCONT")
    await Promise.all(workers.splice(0).map(killWorker))
    for (const server of servers.splice(0)) await server.stop()
  })
  const startServer = async (...args: Parameters<typeof startRedisServer>): Promise<RedisServer> => {
    const server = await startRedisServer(...args)
    servers.push(server)
    return server
  }
  return { workers, servers, startServer }
}
