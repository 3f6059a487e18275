/**
 * Test support for the examples: each program runs as a user would, in its own `node` process
 * on real time, with `REDIS_URL` removed from its environment (a test passes `--redis` to its
 * own server, never the user's).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const scriptOf = (name: string) => fileURLToPath(new URL(`../src/${name}.ts`, import.meta.url))

const environment = () => {
  const env = { ...process.env }
  delete env.REDIS_URL
  return env
}

/** Runs `examples/src/<name>.ts` to its end (at most `timeoutMillis`); call it in `beforeAll`, not at collection. */
export const runExample = (name: string, args: ReadonlyArray<string> = [], timeoutMillis = 60_000) =>
  spawnSync(process.execPath, [scriptOf(name), ...args], {
    encoding: "utf8",
    timeout: timeoutMillis,
    env: environment()
  })

/** A running example process. */
export interface RunningExample {
  readonly child: ChildProcess
  /** Its stdout and stderr so far. */
  readonly output: () => string
  /** Resolves once the output matches, rejects (with the output) when it exits first or `millis` pass. */
  readonly waitFor: (pattern: RegExp | string, millis: number) => Promise<void>
  /** Resolves with its exit code (`null` when a signal ended it). */
  readonly exit: Promise<number | null>
}

const running = new Set<ChildProcess>()
// A test that times out never runs its cleanup: kill what it started when the test process exits.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Starts `examples/src/<name>.ts`; the caller ends it (a signal) and awaits `exit`. */
export const startExample = (name: string, args: ReadonlyArray<string> = []): RunningExample => {
  const child = spawn(process.execPath, [scriptOf(name), ...args], {
    env: environment(),
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.add(child)
  let out = ""
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    out += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout?.on("data", onData)
  child.stderr?.on("data", onData)
  let exited = false
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exited = true
      running.delete(child)
      for (const listener of listeners) listener()
      resolve(code)
    })
  )
  const matches = (pattern: RegExp | string) =>
    typeof pattern === "string" ? out.includes(pattern) : pattern.test(out)
  const waitFor = (pattern: RegExp | string, millis: number) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer)
        listeners.delete(check)
        if (error === undefined) resolve()
        else reject(error)
      }
      const check = () => {
        if (matches(pattern)) done()
        else if (exited) done(new Error(`exited before printing ${String(pattern)}:\n${out}`))
      }
      const timer = setTimeout(() => done(new Error(`no ${String(pattern)} within ${millis} ms:\n${out}`)), millis)
      listeners.add(check)
      check()
    })
  return { child, output: () => out, waitFor, exit }
}
