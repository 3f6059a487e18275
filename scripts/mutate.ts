/**
 * `npm run mutate`: makes each deliberate break of `scripts/mutations.ts` alone, runs the test
 * files that own the guarantee, and prints which breaks no test caught ("survived").
 *
 *   npm run mutate                      every break; a break is caught by the first failing file
 *   npm run mutate -- reap-drops ...    only these breaks
 *   npm run mutate -- --all             run every listed file per break (which files catch it)
 *   npm run mutate -- --no-baseline     skip checking that the files pass unbroken first
 *   npm run mutate -- --list            list the breaks
 *
 * The source files are patched in place and restored after each break. The originals are
 * first written to `.mutate-journal.json`; a run that dies half way (crash, kill -9) leaves
 * the journal, and the next run restores the files from it before anything else. Exit status
 * 0 when every break was caught, 1 when one survived or is stale (its snippet no longer
 * matches the code: rewrite the entry), 2 on a usage error.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { type Mutation, mutations } from "./mutations.ts"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const journal = Path.join(root, ".mutate-journal.json")
const vitest = Path.join(root, "node_modules/vitest/vitest.mjs")
/** A test file that runs longer than this with a break in place counts as catching it (a hang). */
const fileTimeoutMillis = 600_000

type Saved = Record<string, string>

const restore = () => {
  if (!Fs.existsSync(journal)) return
  const saved = JSON.parse(Fs.readFileSync(journal, "utf8")) as Saved
  for (const [file, text] of Object.entries(saved)) Fs.writeFileSync(Path.join(root, file), text)
  Fs.rmSync(journal)
}

/** Applies the edits, or says why it cannot: a snippet found 0 or several times. */
const apply = (mutation: Mutation): string | undefined => {
  const texts = new Map<string, string>()
  for (const edit of mutation.edits) {
    const path = Path.join(root, edit.file)
    if (!Fs.existsSync(path)) return `stale: ${edit.file} does not exist`
    const text = texts.get(edit.file) ?? Fs.readFileSync(path, "utf8")
    const count = text.split(edit.find).length - 1
    if (count !== 1) return `stale: ${JSON.stringify(edit.find)} found ${count} times in ${edit.file}`
    texts.set(
      edit.file,
      text.replace(edit.find, () => edit.replace)
    )
  }
  const saved: Saved = {}
  for (const file of texts.keys()) saved[file] = Fs.readFileSync(Path.join(root, file), "utf8")
  Fs.writeFileSync(journal, JSON.stringify(saved))
  for (const [file, text] of texts) Fs.writeFileSync(Path.join(root, file), text)
  return undefined
}

interface Run {
  readonly passed: boolean
  readonly timedOut: boolean
  readonly seconds: number
  readonly tail: string
  /** The failed tests' titles ("describe > test"), as Vitest lists them. */
  readonly failed: ReadonlyArray<string>
}

const runTests = (file: string): Run => {
  const started = Date.now()
  const result = spawnSync(process.execPath, [vitest, "run", file, "--reporter=dot"], {
    cwd: root,
    encoding: "utf8",
    timeout: fileTimeoutMillis,
    killSignal: "SIGKILL",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined }
  })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
  return {
    passed: result.status === 0,
    timedOut: result.error !== undefined || result.signal !== null,
    seconds: (Date.now() - started) / 1000,
    tail: output.trim().split("\n").slice(-12).join("\n"),
    failed: [
      ...new Set(
        output
          .split("\n")
          .filter((line) => /^\s*FAIL\s/.test(line) && line.includes(" > "))
          .map((line) => line.slice(line.indexOf(" > ") + 3).trim())
      )
    ]
  }
}

const main = () => {
  const args = process.argv.slice(2)
  const all = args.includes("--all")
  const baseline = !args.includes("--no-baseline")
  const ids = args.filter((arg) => !arg.startsWith("--"))
  if (args.includes("--list")) {
    for (const m of mutations) console.log(`${m.id.padEnd(32)} ${m.what}`)
    return 0
  }
  const unknown = ids.filter((id) => !mutations.some((m) => m.id === id))
  if (unknown.length > 0) {
    console.error(`unknown break(s): ${unknown.join(", ")}; see npm run mutate -- --list`)
    return 2
  }
  if (Fs.existsSync(journal)) {
    console.log("restoring the files an interrupted run left broken (.mutate-journal.json)")
    restore()
  }
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      restore()
      process.exit(130)
    })
  }
  process.once("exit", restore)

  const selected = ids.length === 0 ? mutations : mutations.filter((m) => ids.includes(m.id))
  for (const m of selected) {
    for (const file of m.tests) {
      if (!Fs.existsSync(Path.join(root, file))) {
        console.error(`${m.id}: test file ${file} does not exist (rename it in scripts/mutations.ts)`)
        return 2
      }
    }
  }

  const brokenUnmutated = new Set<string>()
  if (baseline) {
    for (const file of new Set(selected.flatMap((m) => m.tests))) {
      const run = runTests(file)
      console.log(`baseline ${run.passed ? "passes" : "FAILS "} ${file} (${run.seconds.toFixed(0)} s)`)
      if (!run.passed) {
        brokenUnmutated.add(file)
        console.log(run.tail)
      }
    }
  }

  const rows: Array<{ readonly id: string; readonly result: string }> = []
  let bad = 0
  for (const m of selected) {
    const problem = apply(m)
    if (problem !== undefined) {
      rows.push({ id: m.id, result: problem })
      console.log(`${m.id}: ${problem}`)
      bad++
      continue
    }
    const caughtBy: Array<string> = []
    try {
      for (const file of m.tests) {
        if (brokenUnmutated.has(file)) continue
        const run = runTests(file)
        const verdict = run.passed ? "passes" : run.timedOut ? "timed out" : "fails"
        console.log(`${m.id}: ${file} ${verdict} (${run.seconds.toFixed(0)} s)`)
        for (const title of run.failed.slice(0, 5)) console.log(`    ✗ ${title}`)
        if (!run.passed) {
          const first =
            run.failed[0] === undefined
              ? ""
              : `: "${run.failed[0]}"${run.failed.length > 1 ? ` (+${run.failed.length - 1})` : ""}`
          caughtBy.push(run.timedOut ? `${Path.basename(file)} (timeout)` : `${Path.basename(file)}${first}`)
          if (!all) break
        }
      }
    } finally {
      restore()
    }
    if (caughtBy.length === 0) bad++
    rows.push({ id: m.id, result: caughtBy.length === 0 ? "SURVIVED" : `caught by ${caughtBy.join(", ")}` })
  }

  console.log("\nbreak                            result")
  for (const row of rows) console.log(`${row.id.padEnd(32)} ${row.result}`)
  const survived = rows.filter((row) => !row.result.startsWith("caught")).map((row) => row.id)
  console.log(survived.length === 0 ? "\nevery break was caught" : `\nnot caught: ${survived.join(", ")}`)
  if (brokenUnmutated.size > 0)
    console.log(`files failing without a break (skipped): ${[...brokenUnmutated].join(", ")}`)
  return bad > 0 || brokenUnmutated.size > 0 ? 1 : 0
}

process.exitCode = main()
