/**
 * Runs the `effect-jobs` binary as a user would: `node packages/cli/src/bin.ts ...` in a
 * child process, with `REDIS_URL` removed from its environment unless a test sets it, so a
 * developer's shell can never point a test at a shared Redis.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const here = Path.dirname(fileURLToPath(import.meta.url))

/** The repository root (the binary's paths in tests are relative to it). */
export const root = Path.resolve(here, "../../../..")

/** The fixture jobs modules. */
export const fixtures = {
  jobs: "packages/cli/test/fixtures/jobs.ts",
  seeded: "packages/cli/test/fixtures/seeded-jobs.ts",
  definitionsOnly: "packages/cli/test/fixtures/definitions-only.ts",
  holdsHandle: "packages/cli/test/fixtures/holds-handle.ts"
} as const

const bin = "packages/cli/src/bin.ts"

/** The outcome of a finished run. */
export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A running child: its output so far, a way to wait for a line, and its exit. */
export interface Running {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves once stdout + stderr match `pattern`; rejects (with the output) after `millis`. */
  readonly waitFor: (pattern: RegExp, millis?: number) => Promise<void>
  readonly exit: Promise<Result>
  /** Sends a signal by pid. */
  readonly kill: (signal: NodeJS.Signals) => void
}

const environment = (env: Record<string, string | undefined>) => {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    REDIS_URL: undefined,
    EFFECT_JOBS_PREFIX: undefined
  }
  delete merged.REDIS_URL
  delete merged.EFFECT_JOBS_PREFIX
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key]
    else merged[key] = value
  }
  return merged as NodeJS.ProcessEnv
}

const children = new Set<ChildProcess>()

/** Kills (by pid) every child a test started that is still running; for `afterAll`. */
export const killAll = (): void => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, "SIGKILL")
  }
  children.clear()
}

/** Starts the binary with `args`. */
export const start = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}): Running => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: environment(env), stdio: "pipe" })
  children.add(child)
  child.once("exit", () => children.delete(child))
  let stdout = ""
  let stderr = ""
  const waiters = new Set<() => void>()
  const onData = () => {
    for (const waiter of waiters) waiter()
  }
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    onData()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
    onData()
  })
  const exit = new Promise<Result>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  const waitFor = (pattern: RegExp, millis = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stdout + stderr)) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${pattern}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`))
      }, millis)
      const onExit = () => {
        cleanup()
        reject(new Error(`exited before ${pattern}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`))
      }
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
        child.off("close", onExit)
      }
      waiters.add(check)
      child.once("close", onExit)
      check()
    })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor,
    exit,
    kill: (signal) => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal)
    }
  }
}

/**
 * Runs the binary to completion; kills it (SIGKILL) if it runs longer than `millis`. The
 * default stays under the project's 60 s test timeout but leaves room for several cold starts
 * at once on a loaded two-core machine (each takes about 1 s of CPU).
 */
export const run = async (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined> = {},
  millis = 50_000
): Promise<Result> => {
  const running = start(args, env)
  const timer = setTimeout(() => running.kill("SIGKILL"), millis)
  const result = await running.exit
  clearTimeout(timer)
  return result
}
