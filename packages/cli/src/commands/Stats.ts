/**
 * `effect-jobs stats`: the numbers of a Redis-backed deployment at a glance. Processed and
 * failed counters, each queue's size and latency, the scheduled / retry / dead sets, and the
 * live worker processes with the jobs they are running (from the core `ProcessRegistry`).
 * `--json` prints one JSON object; `--watch` redraws every `--interval` until Ctrl-C.
 */
import { ProcessRegistry, QueueStore } from "@effect-jobs/core"
import * as Clock from "effect/Clock"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Backend from "../Backend.ts"
import { count, print, printJson, stdoutIsTty, table, truncate } from "../internal/output.ts"
import { markStopsOnSignal } from "../internal/shutdown.ts"
import { errorMessage, formatMillis, parsePositiveDuration } from "../internal/values.ts"
import * as Logging from "../Logging.ts"

/** Everything `stats` shows. */
export interface Snapshot {
  readonly at: number
  readonly stats: QueueStore.StoreStats
  readonly processes: ReadonlyArray<ProcessRegistry.ProcessInfo>
}

const snapshot = Effect.gen(function* () {
  const store = yield* QueueStore.QueueStore
  const registry = yield* ProcessRegistry.ProcessRegistry
  const [stats, processes] = yield* Effect.all([store.stats, registry.list], { concurrency: 2 })
  return { at: yield* Clock.currentTimeMillis, stats, processes } satisfies Snapshot
})

/**
 * The jobs the live processes say they are running: the header's count and the sum of the
 * process lines, so they always agree. (The store's lease count can differ by a heartbeat,
 * and includes the leases of a stopped worker until they expire and are requeued.)
 */
const busy = (processes: ReadonlyArray<ProcessRegistry.ProcessInfo>): number =>
  processes.reduce((sum, p) => sum + p.running.length, 0)

/** The snapshot as JSON-friendly data. */
const toJson = ({ at, stats, processes }: Snapshot) => ({
  at: new Date(at).toISOString(),
  processed: stats.processed,
  failed: stats.failed,
  scheduled: stats.scheduled,
  retry: stats.retry,
  dead: stats.dead,
  busy: busy(processes),
  leased: stats.leased,
  queues: stats.queues,
  processes: processes.map((p) => ({
    ...p,
    startedAt: new Date(p.startedAt).toISOString(),
    beatAt: new Date(p.beatAt).toISOString(),
    running: p.running.map((job) => ({ ...job, startedAt: new Date(job.startedAt).toISOString() }))
  }))
})

/** The snapshot for people. */
export const render = ({ at, stats, processes }: Snapshot): string => {
  const lines: Array<string> = []
  lines.push(
    `Processed ${count(stats.processed)}   Failed ${count(stats.failed)}   Busy ${count(busy(processes))}   ` +
      `Scheduled ${count(stats.scheduled)}   Retries ${count(stats.retry)}   Dead ${count(stats.dead)}`
  )
  const orphaned = stats.leased - busy(processes)
  if (processes.length === 0 && orphaned > 0) {
    lines.push(`(${count(orphaned)} leased by workers no longer running: requeued when their leases expire)`)
  }
  lines.push("")
  if (stats.queues.length === 0) {
    lines.push("No queues yet.")
  } else {
    lines.push(
      table(
        ["QUEUE", "SIZE", "LATENCY", "STATE"],
        stats.queues.map((q) => [
          q.name,
          count(q.size),
          q.size === 0 ? "-" : formatMillis(q.latencyMillis),
          q.paused ? "paused" : ""
        ]),
        [1, 2]
      )
    )
  }
  lines.push("")
  if (processes.length === 0) {
    lines.push("No live worker processes.")
  } else {
    lines.push(`Processes (${processes.length})`)
    for (const p of processes) {
      const queues = p.queues.map((q) => (p.strict ? q.name : `${q.name}:${q.weight}`)).join(", ")
      lines.push(
        `  ${p.id}  busy ${p.running.length}/${p.concurrency}  queues ${queues}  up ${formatMillis(at - p.startedAt)}` +
          (p.quiet ? "  [quiet]" : "")
      )
      for (const job of p.running) {
        lines.push(
          `    ${truncate(job.name, 40)} ${job.id} on ${job.queue}, attempt ${job.attempt}, running ${formatMillis(at - job.startedAt)}`
        )
      }
    }
  }
  return lines.join("\n")
}

/** The `stats` command. */
export const command = Command.make(
  "stats",
  {
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print JSON (one line per snapshot)"),
      Flag.withDefault(false)
    ),
    watch: Flag.Boolean("watch").pipe(
      Flag.withAlias("w"),
      Flag.withDescription("Keep refreshing until Ctrl-C"),
      Flag.withDefault(false)
    ),
    interval: Flag.String("interval").pipe(
      Flag.withMetavar("DURATION"),
      Flag.withDescription("With --watch: time between refreshes (default 2s)"),
      Flag.mapTryCatch(parsePositiveDuration, errorMessage),
      Flag.withDefault(2000)
    )
  },
  (options) =>
    Logging.withLogging(
      Backend.withSharedStore(
        "stats",
        Effect.gen(function* () {
          const show = (snap: Snapshot) => (options.json ? printJson(toJson(snap)) : print(render(snap)))
          if (!options.watch) return yield* Effect.flatMap(snapshot, show)
          yield* markStopsOnSignal
          const redraw = stdoutIsTty() && !options.json
          let drawnLines = 0
          while (true) {
            const snap = yield* snapshot
            if (redraw) {
              const columns = process.stdout.columns ?? 200
              // Lines are cut to the terminal's width: a wrapped line would throw the redraw off.
              const text = `${render(snap)}\n\n(refreshing every ${formatMillis(options.interval)}; Ctrl-C to stop)`
                .split("\n")
                .map((line) => (line.length > columns ? line.slice(0, columns - 1) : line))
                .join("\n")
              // Move up over the previous frame and clear it, so the numbers change in place.
              const clear = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : ""
              yield* Effect.sync(() => process.stdout.write(`${clear}${text}\n`))
              drawnLines = text.split("\n").length
            } else {
              yield* show(snap)
              if (!options.json) yield* print("")
            }
            yield* Effect.sleep(options.interval)
          }
        }),
        { readOnly: true }
      )
    )
).pipe(
  Command.withDescription("Show counters, queue sizes and latency, set sizes, and live workers (needs --redis)"),
  Command.withExamples([
    { command: "effect-jobs stats --redis redis://127.0.0.1:6379", description: "One snapshot" },
    { command: "effect-jobs stats --watch", description: "Refresh in place every 2 s (REDIS_URL set)" }
  ])
)
