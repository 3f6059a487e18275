/**
 * `node src/profile.ts FILE.cpuprofile [--top N]`: where a worker's CPU went.
 *
 * Prints self time by area (effect-jobs module, effect module, ioredis, Node internals, GC),
 * the top functions by self time, and the effect-jobs functions by inclusive time (time with
 * the function anywhere on the stack). Profiles come from `npm run bench -- --profile`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { parseArgs } from "node:util"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** A short name for where code lives. */
export const area = (frame: CallFrame): string => {
  const url = frame.url
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)"
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[1] ?? url.slice(5)}`
  const pkg = /\/packages\/(core|redis|cli)\/(?:dist\/)?src\/(.+)\.[jt]s$/.exec(url)
  if (pkg) return `effect-jobs/${pkg[1]}: ${pkg[2]}`
  const effect = /\/node_modules\/effect\/dist\/(.+)\.js$/.exec(url)
  if (effect) return `effect: ${effect[1]}`
  const module = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (module) return module[1]!
  if (url.includes("/bench/src/")) return `bench: ${Path.basename(url)}`
  return url
}

const label = (frame: CallFrame) =>
  `${frame.functionName || "(anonymous)"} ${frame.url === "" ? "" : `${area(frame)}:${frame.lineNumber + 1}`}`.trim()

/** Self and inclusive milliseconds, by area and by function. */
export const analyse = (profile: CpuProfile) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const selfByFunction = new Map<string, number>()
  const selfByArea = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    const node = byId.get(id)
    if (node === undefined) return
    total += ms
    const key = label(node.callFrame)
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + ms)
    const a = area(node.callFrame)
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + ms)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (!/\/packages\/(core|redis)\/(?:dist\/)?src\//.test(frame.url)) continue
      const k = label(frame)
      if (seen.has(k)) continue
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms)
    }
  })
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1])
  return { total, selfByArea: sorted(selfByArea), selfByFunction: sorted(selfByFunction), inclusive: sorted(inclusive) }
}

const main = () => {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: "string" } } })
  const top = Number(values.top ?? 25)
  if (positionals.length === 0) throw new Error("usage: node src/profile.ts FILE.cpuprofile [--top N]")
  for (const file of positionals) {
    const result = analyse(JSON.parse(Fs.readFileSync(file, "utf8")) as CpuProfile)
    const idle = result.selfByArea.find(([a]) => a === "(idle)")?.[1] ?? 0
    const busy = result.total - idle
    const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`
    const row = ([name, ms]: [string, number]) => `  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${name}`
    console.log(`${file}: ${result.total.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy (percentages of busy)`)
    console.log("self time by area:")
    for (const r of result.selfByArea.filter(([a]) => a !== "(idle)").slice(0, top)) console.log(row(r))
    console.log("self time by function:")
    for (const r of result.selfByFunction.filter(([f]) => f !== "(idle)").slice(0, top)) console.log(row(r))
    console.log("effect-jobs functions by inclusive time:")
    for (const r of result.inclusive.slice(0, top)) console.log(row(r))
    console.log("")
  }
}

if (import.meta.main) main()
