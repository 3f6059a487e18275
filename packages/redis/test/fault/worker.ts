/**
 * A worker process for the fault tests: `node worker.ts`, configured by environment.
 *
 * Runs `Work` and `Once` (`retry: false`, runs counted in `<prefix>:test:once`) jobs from Redis; each run counts itself in Redis when it starts
 * (`<prefix>:test:runs`, job number → runs, and `<prefix>:test:by`, job number → worker name)
 * and when it completes (`<prefix>:test:done`), sleeping `millis` (plus `EXTRA_MS`, this
 * worker's own slowness) in between, so the counts survive this process being killed.
 * Prints `READY` once the worker is running, and `SETTLE <op> <id> <held>` for every
 * settlement the store answered (held 1: the lease was still this worker's; 0: refused).
 * SIGTERM/SIGINT shut it down gracefully.
 */
import { Job, JobRegistry, JobWorker, QueueStore } from "@effect-jobs/core"
import { Effect, Layer, Schedule, Schema } from "effect"
import * as IoRedis from "../../src/IoRedis.ts"
import * as RedisBackend from "../../src/RedisBackend.ts"

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`worker.ts: set ${name}`)
  return value
}

const prefix = env("PREFIX")
const name = env("NAME", String(process.pid))
const extraMillis = Number(env("EXTRA_MS", "0"))

/** The job every fault test runs; a run that fails (Redis away) is retried soon. */
export const Work = Job.make("Work", {
  payload: { n: Schema.Number, millis: Schema.Number },
  retry: Schedule.spaced("200 millis")
})

/** A job that must run at most once (`retry: false`); its runs are counted in `<prefix>:test:once`. */
export const Once = Job.make("Once", {
  payload: { n: Schema.Number, millis: Schema.Number },
  retry: false
})

const handlers = JobRegistry.add(
  Work.handle(({ millis, n }) =>
    Effect.gen(function* () {
      const io = yield* IoRedis.IoRedis
      yield* io.send("HINCRBY", `${prefix}:test:runs`, n, 1)
      yield* io.send("HSET", `${prefix}:test:by`, n, name)
      if (millis + extraMillis > 0) yield* Effect.sleep(millis + extraMillis)
      yield* io.send("HINCRBY", `${prefix}:test:done`, n, 1)
    }).pipe(Effect.orDie)
  ),
  // Counted in a retry loop of its own: a count lost to a cut connection is not a failed run.
  Once.handle(({ millis, n }) =>
    Effect.gen(function* () {
      const io = yield* IoRedis.IoRedis
      yield* io.send("HINCRBY", `${prefix}:test:once`, n, 1).pipe(Effect.retry(Schedule.spaced("50 millis")))
      if (millis > 0) yield* Effect.sleep(millis)
    }).pipe(Effect.orDie)
  )
)

const print = (line: string) => Effect.sync(() => void process.stdout.write(`${line}\n`))
const held = (answer: boolean | number | undefined) => (answer === undefined ? "?" : Number(answer))

/** The store as the worker sees it, printing each settlement's answer. */
const printedSettlements = Layer.effect(
  QueueStore.QueueStore,
  Effect.gen(function* () {
    const store = yield* QueueStore.QueueStore
    return {
      ...store,
      ack: (leases) =>
        Effect.tap(store.ack(leases), (n) =>
          leases.length === 1 ? print(`SETTLE ack ${leases[0]!.id} ${n}`) : Effect.void
        ),
      ackAndClaim: (acks, options) =>
        Effect.tap(store.ackAndClaim(acks, options), ({ acked }) =>
          Effect.forEach(acks, (lease, i) => print(`SETTLE ack ${lease.id} ${held(acked[i])}`), { discard: true })
        ),
      retry: (lease, options) =>
        Effect.tap(store.retry(lease, options), (ok) => print(`SETTLE retry ${lease.id} ${held(ok)}`)),
      kill: (lease, options) =>
        Effect.tap(store.kill(lease, options), (ok) => print(`SETTLE kill ${lease.id} ${held(ok)}`)),
      discard: (lease) => Effect.tap(store.discard(lease), (ok) => print(`SETTLE discard ${lease.id} ${held(ok)}`)),
      requeue: (lease) => Effect.tap(store.requeue(lease), (ok) => print(`SETTLE requeue ${lease.id} ${held(ok)}`))
    }
  })
)

const backend = RedisBackend.layer({
  url: env("REDIS_URL"),
  prefix,
  allowEviction: true,
  commandTimeout: Number(env("COMMAND_TIMEOUT_MS", "2000"))
})

const worker = JobWorker.layer({
  concurrency: Number(env("CONCURRENCY", "10")),
  leaseDuration: Number(env("LEASE_MS", "30000")),
  reapInterval: Number(env("REAP_MS", "5000")),
  shutdownTimeout: Number(env("SHUTDOWN_MS", "25000")),
  pollInterval: 1000
}).pipe(Layer.provide(handlers), Layer.provide(printedSettlements), Layer.provideMerge(backend))

const main = Effect.gen(function* () {
  yield* Layer.build(worker)
  yield* Effect.sync(() => process.stdout.write("READY\n"))
  return yield* Effect.never
}).pipe(Effect.scoped)

const fiber = Effect.runFork(main)
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => fiber.interruptUnsafe())
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !exit.cause.reasons.every((reason) => reason._tag === "Interrupt")) {
    process.stderr.write(`worker failed: ${String(exit.cause)}\n`)
    process.exit(1)
  }
  process.exit(0)
})
