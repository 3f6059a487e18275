/**
 * `perf script -i perf.data | node src/perfReport.ts [--top N]`: where a worker's CPU went,
 * from Linux `perf` samples of a child of `npm run bench -- --node-flags=--perf-basic-prof`.
 *
 * `perf` samples CPU time; `--cpu-prof` samples wall time, so it charges a thread that is
 * runnable but not running (two cores shared by Redis, a worker and a producer) to whatever
 * native call was on top, typically the socket write that woke Redis. Use this for shares.
 *
 * Each sample is charged to the nearest effect-jobs frame on its stack (`packages/*\/src`),
 * so a line reads "this function, and the Effect runtime and ioredis work it caused"; samples
 * with no effect-jobs frame are charged to the runtime or library on top.
 */
import * as Readline from "node:readline"
import { parseArgs } from "node:util"

const { values } = parseArgs({ options: { top: { type: "string" } } })
const top = Number(values.top ?? 30)

const counts = new Map<string, number>()
const leaves = new Map<string, number>()
let total = 0
let frames: Array<string> = []
let thread = ""

const short = (frame: string) =>
  frame
    .replace(/^\s*[0-9a-f]+\s+/, "")
    .replace(/\s+\(\/[^)]*\)$/, "")
    .replace(/\+0x[0-9a-f]+$/, "")
    .replace(/^JS:[*+^~]?'?/, "JS ")
    .replace(/file:\/\/\/work\/[^ ]*?\/(packages|node_modules)\//, "$1/")
    .replace(/\/work\/[^ ]*?\/node_modules\//, "node_modules/")

const charge = () => {
  if (frames.length === 0) return
  total++
  const leaf = short(frames[0]!)
  const gc = frames.some((f) => /Scavenger|MarkCompact|Heap::|ConcurrentMarking|MinorMS/.test(f))
  let key: string
  if (thread !== "MainThread") key = gc ? "(GC helper threads)" : `(thread ${thread})`
  else if (gc) key = "(GC on the main thread)"
  else {
    const ours = frames.find((f) => /packages\/(core|redis)\/src\//.test(f))
    if (ours !== undefined) key = short(ours)
    else if (/\[kernel|_raw_spin|finish_task_switch|^\s*[0-9a-f]+ (entry_|do_syscall|__x64)/.test(frames[0]!)) {
      key = "(kernel, no effect-jobs frame)"
    } else if (frames.some((f) => f.includes("node_modules/ioredis"))) key = "(ioredis, no effect-jobs frame)"
    else if (frames.some((f) => f.includes("node_modules/effect/"))) key = "(Effect runtime, no effect-jobs frame)"
    else if (frames.some((f) => f.includes("/bench/src/"))) key = "(bench harness)"
    else key = "(other)"
  }
  counts.set(key, (counts.get(key) ?? 0) + 1)
  leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1)
}

const lines = Readline.createInterface({ input: process.stdin })
lines.on("line", (line) => {
  if (line.trim() === "") {
    charge()
    frames = []
    return
  }
  if (!line.startsWith("\t") && !line.startsWith(" ")) {
    thread = line.split(/\s+/)[0] ?? ""
    return
  }
  frames.push(line)
})
lines.on("close", () => {
  charge()
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`
  console.log(`${total} samples`)
  console.log("charged to the nearest effect-jobs frame:")
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(n)}  ${k}`)
  console.log("leaf functions (self time):")
  for (const [k, n] of [...leaves].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(n)}  ${k}`)
})
