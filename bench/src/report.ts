/**
 * Turns run records into the results table: one row per variant and metric, each system's
 * median with min–max over the repeats, and the ratios effect-jobs / BullMQ and effect-jobs /
 * Sidekiq of the medians (for the systems in the run).
 */
import { type SystemName, systemLabel } from "./protocol.ts"
import type { MetricDef, RunOutcome, Variant } from "./scenarios.ts"

/** One run of one variant for one system. */
export interface RunRecord {
  readonly variant: string
  readonly scenario: string
  readonly system: SystemName
  readonly repeat: number
  /** Wall time of the whole run including setup, s. */
  readonly seconds: number
  /** The machine's 1-minute load average at the start and the end of the run. */
  readonly load: readonly [number, number]
  /** `commit` or `commit+hash of uncommitted packages/ changes` when the run started. */
  readonly code: string
  readonly ok: boolean
  readonly error?: string | undefined
  readonly metrics: RunOutcome["metrics"]
  readonly notes: RunOutcome["notes"]
  readonly detail: RunOutcome["detail"]
}

/** One line of the table. */
export interface Row {
  readonly section: string
  readonly title: string
  readonly metric: MetricDef
  readonly values: Partial<Record<SystemName, ReadonlyArray<number>>>
  /** Runs that failed, per system. */
  readonly failed: Partial<Record<SystemName, number>>
}

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const summarize = (values: ReadonlyArray<number>): Summary | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length }
}

const collect = (
  records: ReadonlyArray<RunRecord>,
  from: ReadonlyArray<string>,
  key: string,
  systems: ReadonlyArray<SystemName>
) => {
  const values: Partial<Record<SystemName, Array<number>>> = {}
  const failed: Partial<Record<SystemName, number>> = {}
  for (const system of systems) {
    const mine = records.filter((r) => r.system === system && from.includes(r.variant))
    values[system] = mine.filter((r) => r.ok && Number.isFinite(r.metrics[key])).map((r) => r.metrics[key]!)
    failed[system] = mine.filter((r) => !r.ok).length
  }
  return { values, failed }
}

/** Table rows in variant order; a variant with `from` shows those variants' runs when it did not run itself. */
export const buildRows = (
  variants: ReadonlyArray<Variant>,
  records: ReadonlyArray<RunRecord>,
  systems: ReadonlyArray<SystemName>
): Array<Row> => {
  const ran = new Set(records.map((r) => r.variant))
  const rows: Array<Row> = []
  for (const variant of variants) {
    const from = ran.has(variant.id) ? [variant.id] : (variant.from ?? []).filter((id) => ran.has(id))
    if (from.length === 0) continue
    for (const metric of variant.metrics) {
      rows.push({
        section: variant.section,
        title: variant.title,
        metric,
        ...collect(records, from, metric.key, systems)
      })
    }
  }
  return rows
}

const cell = (row: Row, system: SystemName): string => {
  const s = summarize(row.values[system] ?? [])
  const failed = row.failed[system] ?? 0
  if (s === undefined) return failed > 0 ? `failed ×${failed}` : "–"
  const f = row.metric.format
  const spread = s.n > 1 ? ` (${f(s.min)}–${f(s.max)})` : ""
  return `${f(s.median)}${spread}${failed > 0 ? `, failed ×${failed}` : ""}`
}

/** effect-jobs median / the other system's median. */
export const ratio = (row: Row, other: SystemName = "bullmq"): number | undefined => {
  const ours = summarize(row.values["effect-jobs"] ?? [])
  const theirs = summarize(row.values[other] ?? [])
  if (ours === undefined || theirs === undefined || theirs.median === 0) return undefined
  return ours.median / theirs.median
}

/** The table as Markdown (readable as plain text too). */
export const renderTable = (rows: ReadonlyArray<Row>, systems: ReadonlyArray<SystemName>): string => {
  const header = ["scenario", "metric", ...systems.map((s) => systemLabel[s])]
  const others = systems.includes("effect-jobs") ? systems.filter((s) => s !== "effect-jobs") : []
  for (const other of others) header.push(`effect-jobs / ${systemLabel[other]}`)
  const lines: Array<Array<string>> = []
  let last = ""
  for (const row of rows) {
    const name = `${row.section}: ${row.title}`
    const line = [
      name === last ? "" : name,
      `${row.metric.label} ${row.metric.better === "higher" ? "↑" : "↓"}`,
      ...systems.map((s) => cell(row, s))
    ]
    for (const other of others) {
      const r = ratio(row, other)
      line.push(r === undefined ? "–" : `${r.toFixed(2)}×`)
    }
    lines.push(line)
    last = name
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const render = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [render(header), render(widths.map((w) => "-".repeat(w))), ...lines.map(render)].join("\n")
}

/** Redis calls and µs per job by command, averaged over the runs of one drain variant. */
export const renderCommandStats = (
  records: ReadonlyArray<RunRecord>,
  variant: string,
  jobs: number,
  systems: ReadonlyArray<SystemName>
): string => {
  const out: Array<string> = []
  for (const system of systems) {
    const runs = records.filter((r) => r.ok && r.variant === variant && r.system === system)
    if (runs.length === 0) continue
    const totals = new Map<string, { calls: number; usec: number }>()
    for (const run of runs) {
      const stats = (run.detail.commandstats ?? {}) as Record<string, { calls: number; usec: number }>
      for (const [command, { calls, usec }] of Object.entries(stats)) {
        const t = totals.get(command) ?? { calls: 0, usec: 0 }
        t.calls += calls / runs.length
        t.usec += usec / runs.length
        totals.set(command, t)
      }
    }
    const sorted = [...totals].sort((a, b) => b[1].usec - a[1].usec)
    out.push(`${systemLabel[system]} (${variant}, INFO commandstats per job; script bodies include their inner calls):`)
    out.push("| command | calls/job | µs/job |", "| --- | --- | --- |")
    for (const [command, { calls, usec }] of sorted.slice(0, 12)) {
      out.push(`| ${command} | ${(calls / jobs).toFixed(3)} | ${(usec / jobs).toFixed(2)} |`)
    }
    out.push("")
  }
  return out.join("\n")
}
