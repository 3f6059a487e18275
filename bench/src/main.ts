/**
 * `npm run bench [-- options]`: effect-jobs side by side with BullMQ (and Sidekiq, where Ruby
 * with the sidekiq gem is installed) on one `redis-server` of the harness's own, producer and
 * workers in separate processes.
 *
 * Options:
 *   --quick              small sizes, one repeat (under a minute; ~1.75 minutes with Sidekiq's pollers)
 *   --only a,b           scenarios (enqueue, drain, latency, scheduled, retry, scaleout) or
 *                        variant ids (drain/c25, latency/1000, …)
 *   --systems a,b        effect-jobs, bullmq, sidekiq (default all; sidekiq only where Ruby with the
 *                        sidekiq gem is installed, e.g. Debian's `apt-get install ruby-sidekiq`)
 *   --repeats N          repeats per variant (default 3, quick 1)
 *   --out FILE           JSON of every run (default results/latest.json, quick results/quick.json)
 *   --profile            write a .cpuprofile of every producer and worker to results/profiles/
 *   --node-flags=…       extra Node flags for every child, space-separated (`--perf-basic-prof`)
 *   --verbose            pass the children's log output through
 */
import { execFileSync, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import type { ProducerResult, SystemName, WorkerResult } from "./protocol.ts"
import { systems as allSystems, queueName, systemLabel } from "./protocol.ts"
import { startRedisServer } from "./redis.ts"
import { buildRows, type RunRecord, renderCommandStats, renderTable } from "./report.ts"
import { type Bench, fullSizes, quickSizes, scenarioNames, variants } from "./scenarios.ts"
import { Child } from "./spawn.ts"

const benchDir = Path.resolve(import.meta.dirname, "..")
/** The `effect-jobs` binary as compiled by `tsc -b` (see `buildPackages`), and the start-up row's jobs module. */
const cliBin = Path.join(benchDir, "..", "packages", "cli", "dist", "src", "effect-jobs.js")
const startupJobs = Path.join(benchDir, "src", "startupJobs.ts")

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    systems: { type: "string" },
    repeats: { type: "string" },
    out: { type: "string" },
    profile: { type: "boolean", default: false },
    "node-flags": { type: "string" },
    verbose: { type: "boolean", default: false }
  }
})

const list = <A extends string>(text: string | undefined, allowed: ReadonlyArray<A>, what: string): Array<A> => {
  if (text === undefined) return [...allowed]
  const items = text.split(",").map((s) => s.trim())
  for (const item of items) {
    if (!allowed.includes(item as A))
      throw new Error(`--${what}: unknown ${JSON.stringify(item)}; use ${allowed.join(", ")}`)
  }
  return items as Array<A>
}

/** Sidekiq rows need Ruby with the sidekiq gem: its versions, or why there are no such rows. */
const sidekiq = ((): { readonly found: boolean; readonly line: string } => {
  const probe = spawnSync("ruby", ["-e", "require 'sidekiq'; print Sidekiq::VERSION, ' ', RUBY_VERSION"], {
    encoding: "utf8"
  })
  if (probe.error !== undefined || probe.status !== 0) {
    return { found: false, line: "Sidekiq: skipped (ruby-sidekiq not installed)" }
  }
  const [gem, ruby] = probe.stdout.trim().split(" ")
  return { found: true, line: `Sidekiq ${gem} (ruby ${ruby})` }
})()

const only = options.only?.split(",").map((s) => s.trim()) ?? [...scenarioNames]
const available = allSystems.filter((system) => system !== "sidekiq" || sidekiq.found)
if (!sidekiq.found && options.systems?.split(",").some((s) => s.trim() === "sidekiq")) {
  throw new Error("--systems sidekiq: ruby with the sidekiq gem not found (Debian: apt-get install ruby-sidekiq)")
}
const systems = list<SystemName>(options.systems, available, "systems")
const base = options.quick ? quickSizes : fullSizes
const sizes = { ...base, repeats: options.repeats === undefined ? base.repeats : Number(options.repeats) }
const outFile = Path.resolve(
  options.out ?? Path.join(benchDir, "results", options.quick ? "quick.json" : "latest.json")
)
const profileDir = Path.join(benchDir, "results", "profiles")

const version = (pkg: string): string => {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version
  } catch {
    return "unknown"
  }
}

const gitCommit = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: benchDir, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

/**
 * The code under test as this run sees it: the commit plus a hash of uncommitted changes to
 * `packages/`. Children load the packages' compiled output afresh for every run, so edits
 * compiled (`tsc -b`) while the bench runs change the later runs; the table says when the
 * sources changed.
 */
const codeVersion = (): string => {
  try {
    const diff = execFileSync("git", ["diff", "HEAD", "--", ":(top)packages"], { cwd: benchDir, encoding: "utf8" })
    const dirty = diff === "" ? "" : `+${createHash("sha1").update(diff).digest("hex").slice(0, 8)}`
    return `${gitCommit()}${dirty}`
  } catch {
    return "unknown"
  }
}

const log = (line: string) => process.stdout.write(`${line}\n`)

/** Compiles the packages (`tsc -b`, incremental): the children load their `dist` output. */
const buildPackages = () => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  // The CLI too: the start-up row runs the `effect-jobs` binary.
  const packages = ["core", "redis", "cli"].map((name) => Path.join(benchDir, "..", "packages", name))
  const build = spawnSync(process.execPath, [tsc, "-b", ...packages], { stdio: "inherit" })
  if (build.status !== 0) {
    throw new Error(
      "compiling packages/core, packages/redis and packages/cli (tsc -b) failed: fix the errors above and run again"
    )
  }
}

const main = async () => {
  const all = variants(sizes)
  for (const name of only) {
    if (!all.some((v) => v.scenario === name || v.id === name)) {
      throw new Error(`--only: unknown ${JSON.stringify(name)}; use ${scenarioNames.join(", ")} or a variant id`)
    }
  }
  const picked = new Set(all.filter((v) => only.includes(v.scenario) || only.includes(v.id)).map((v) => v.id))
  // Rows made of other variants' runs come along with those variants.
  const chosen = all.filter((v) => picked.has(v.id) || (v.from ?? []).some((id) => picked.has(id)))
  // Rows that reuse a planned variant's runs are not run again.
  const plan = chosen.filter((v) => v.run !== undefined && !(v.from ?? []).some((id) => picked.has(id)))
  const total = plan.length * sizes.repeats * systems.length
  buildPackages()
  const server = await startRedisServer()
  const live = new Set<Child<ProducerResult> | Child<WorkerResult>>()
  const cleanup = async () => {
    for (const child of live) child.kill()
    await server.stop()
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping children and redis-server`)
      void cleanup().finally(() => process.exit(130))
    })
  }

  const meta = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    quick: options.quick,
    node: process.version,
    cpu: `${Os.cpus()[0]?.model ?? "unknown"} × ${Os.availableParallelism()}`,
    memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
    redis: server.version,
    bullmq: version("bullmq"),
    sidekiq: sidekiq.line,
    effect: version("effect"),
    ioredis: version("ioredis"),
    commit: gitCommit(),
    /** 1/5/15-minute load averages at the start: other work on the machine skews every number. */
    loadAtStart: Os.loadavg().map((n) => Number(n.toFixed(2))),
    sizes
  }
  log(`effect-jobs bench — ${meta.command}`)
  log(
    `Node ${meta.node}, redis-server ${meta.redis} (own instance, ${server.url}), BullMQ ${meta.bullmq}, effect ${meta.effect}, ${meta.cpu}`
  )
  log(sidekiq.line)
  log(`${total} runs: ${plan.map((v) => v.id).join(", ")} × ${systems.join(", ")} × ${sizes.repeats}\n`)

  const records: Array<RunRecord> = []
  const skips: Array<string> = []
  const benchStart = performance.now()
  let index = 0
  for (const variant of plan) {
    for (let repeat = 1; repeat <= sizes.repeats; repeat++) {
      for (const system of systems) {
        index++
        const tag = `${variant.id.replace(/\//g, "-")}-${system}-r${repeat}`
        let producers = 0
        const flags = (name: string) => [
          ...(options.profile
            ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${tag}-${name}.cpuprofile`]
            : []),
          ...(options["node-flags"]?.split(" ").filter((flag) => flag !== "") ?? [])
        ]
        const bench: Bench = {
          server,
          sizes,
          producer: async (system, work, label) => {
            const child = Child.start<ProducerResult>(
              "producer.ts",
              { system, url: server.url, work },
              {
                label,
                verbose: options.verbose,
                execArgv: flags(`p${++producers}`)
              }
            )
            live.add(child)
            await child.ready()
            return child
          },
          workers: async (system, count, concurrency, label) => {
            const children = Array.from({ length: count }, (_, i) => {
              const child = Child.start<WorkerResult>(
                "worker.ts",
                { system, url: server.url, concurrency },
                {
                  label: count > 1 ? `${label} #${i + 1}` : label,
                  verbose: options.verbose,
                  execArgv: ["--expose-gc", ...flags(`w${i + 1}`)]
                }
              )
              live.add(child)
              return child
            })
            await Promise.all(children.map((c) => c.ready()))
            return children
          },
          startWorker: (system, concurrency, label) => {
            const execArgv = flags("w1")
            const child =
              system === "effect-jobs"
                ? Child.startModule<WorkerResult>(
                    cliBin,
                    [
                      "worker",
                      ...["--jobs", startupJobs, "--redis", server.url],
                      ...["--queue", queueName, "--concurrency", String(concurrency)]
                    ],
                    { label, verbose: options.verbose, execArgv }
                  )
                : Child.start<WorkerResult>(
                    "worker.ts",
                    { system, url: server.url, concurrency, startAtOnce: true },
                    { label, verbose: options.verbose, execArgv: ["--expose-gc", ...execArgv] }
                  )
            live.add(child)
            return child
          }
        }
        const prefix = `[${String(index).padStart(String(total).length)}/${total}] ${variant.id} ${systemLabel[system]} #${repeat}`
        const skipped = variant.skip?.(system)
        if (skipped !== undefined) {
          skips.push(`${variant.id} ${systemLabel[system]}: ${skipped}`)
          log(`${prefix}: skipped (${skipped})`)
          continue
        }
        await server.reset()
        const started = performance.now()
        const loadBefore = Number(Os.loadavg()[0]!.toFixed(2))
        const code = codeVersion()
        // What every record of this run says, whatever its outcome.
        const runOf = (seconds: number) => ({
          variant: variant.id,
          scenario: variant.scenario,
          system,
          repeat,
          seconds,
          load: [loadBefore, Number(Os.loadavg()[0]!.toFixed(2))] as const,
          code
        })
        try {
          const outcome = await variant.run!(system, bench)
          const seconds = (performance.now() - started) / 1000
          records.push({ ...runOf(seconds), ok: true, ...outcome })
          const shown = variant.metrics
            .slice(0, 4)
            .map((metric) => `${metric.format(outcome.metrics[metric.key] ?? Number.NaN)} ${metric.label}`)
            .join(" · ")
          log(`${prefix}: ${shown} (${seconds.toFixed(1)} s)`)
          for (const note of outcome.notes) log(`    note: ${note}`)
        } catch (error) {
          const seconds = (performance.now() - started) / 1000
          const message = error instanceof Error ? error.message : String(error)
          records.push({ ...runOf(seconds), ok: false, error: message, metrics: {}, notes: [], detail: {} })
          log(`${prefix}: FAILED after ${seconds.toFixed(1)} s: ${message}`)
        }
        for (const child of live) child.kill()
        live.clear()
      }
    }
  }
  await cleanup()
  const loadAtEnd = Os.loadavg().map((n) => Number(n.toFixed(2)))
  const wallMinutes = (performance.now() - benchStart) / 60_000

  const rows = buildRows(chosen, records, systems)
  const table = renderTable(rows, systems)
  const drainVariant = plan.some((v) => v.id === "drain/c25")
    ? "drain/c25"
    : plan.find((v) => v.scenario === "drain")?.id
  const commandStats =
    drainVariant === undefined ? "" : renderCommandStats(records, drainVariant, sizes.drainJobs, systems)
  // A run uses up to two busy processes plus Redis; beyond cores + 1.5 something else was running.
  const busyLoad = Os.availableParallelism() + 1.5
  const busy = records.filter((r) => Math.max(...r.load) > busyLoad)
  const peakLoad = Math.max(0, ...records.flatMap((r) => r.load))
  const loadLine =
    busy.length === 0
      ? `machine load stayed at or under ${busyLoad} (1-minute average) in every run`
      : `other work shared the machine: the 1-minute load average passed ${busyLoad} in ${busy.length} of ` +
        `${records.length} runs (peak ${peakLoad}); their throughput and latency suffer, CPU seconds much less`
  const versions = [...new Set(records.map((r) => r.code))]
  const codeLine =
    versions.length === 1
      ? `code under test: ${versions[0]}`
      : `the code under test changed during the bench (${versions.join(" → ")}): runs differ in what they measure`
  const medians =
    sizes.repeats > 1 ? `medians of ${sizes.repeats} runs (min–max)` : "one run each (use more repeats for spreads)"
  const markdown = [
    `# effect-jobs bench`,
    "",
    `\`${meta.command}\` — ${meta.date}, commit ${meta.commit}`,
    `Node ${meta.node}, redis-server ${meta.redis}, BullMQ ${meta.bullmq}, effect ${meta.effect}, ${meta.cpu}, ${meta.memoryGiB} GiB`,
    `${records.length} runs in ${wallMinutes.toFixed(1)} min; load average ${meta.loadAtStart.join(" ")} at the start, ${loadAtEnd.join(" ")} at the end`,
    loadLine,
    codeLine,
    sidekiq.line,
    ...skips.map((skip) => `skipped: ${skip}`),
    "",
    `${medians}; ↑ higher is better, ↓ lower is better.`,
    "",
    table,
    "",
    commandStats
  ].join("\n")
  log(`\n${markdown}`)
  const failures = records.filter((r) => !r.ok)
  const notes = records.flatMap((r) => r.notes.map((n) => `${r.variant} ${r.system} #${r.repeat}: ${n}`))
  if (notes.length > 0) log(`Notes:\n${notes.map((n) => `  ${n}`).join("\n")}`)
  if (skips.length > 0) log(`Skipped:\n${skips.map((n) => `  ${n}`).join("\n")}`)
  if (failures.length > 0) {
    log(`Failed runs:\n${failures.map((r) => `  ${r.variant} ${r.system} #${r.repeat}: ${r.error}`).join("\n")}`)
  }

  Fs.mkdirSync(Path.dirname(outFile), { recursive: true })
  Fs.writeFileSync(
    outFile,
    `${JSON.stringify({ meta: { ...meta, loadAtEnd, wallMinutes }, rows: rows.map(serializeRow), runs: records }, null, 2)}\n`
  )
  Fs.writeFileSync(`${outFile.replace(/\.json$/, "")}.md`, `${markdown}\n`)
  log(`\nwrote ${Path.relative(process.cwd(), outFile)} and its .md`)
  if (options.profile) log(`CPU profiles of the children in ${Path.relative(process.cwd(), profileDir)}`)
  process.exitCode = failures.length > 0 ? 1 : 0
}

const serializeRow = (row: ReturnType<typeof buildRows>[number]) => ({
  section: row.section,
  title: row.title,
  metric: row.metric.label,
  better: row.metric.better,
  values: row.values,
  failed: row.failed
})

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exit(1)
})
