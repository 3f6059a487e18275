/**
 * The parent's handle on a child process (`producer.ts` or `worker.ts`): start it, wait for
 * `ready`, send `go` and `stop`, wait for its `result`. A child that exits early or takes
 * too long fails the run with the end of its stderr; it is killed by its own pid.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as Path from "node:path"
import type { ChildMessage, FirstJob, ParentMessage, ProducerResult, WorkerResult } from "./protocol.ts"

const sourceDir = import.meta.dirname

/** NODE_OPTIONS without `--conditions=@effect-jobs/source`, so a child loads `dist/`. */
const compiledOnly = (options: string | undefined): string =>
  (options ?? "").replace(/--conditions[= ]@effect-jobs\/source/g, "").trim()

export interface SpawnOptions {
  /** Shown in errors. */
  readonly label: string
  /** Extra Node flags (`--cpu-prof`…). */
  readonly execArgv?: ReadonlyArray<string>
  /** Pass the child's stdout through (its log lines); otherwise it is discarded. */
  readonly verbose?: boolean
}

export class Child<R extends ChildMessage> {
  private stderr = ""
  private readonly readyPromise: Promise<void>
  private readonly resultPromise: Promise<R>
  private readonly firstPromise: Promise<FirstJob>
  private readonly exitPromise: Promise<number | null>

  private readonly process: ChildProcess
  private readonly label: string

  private constructor(process: ChildProcess, label: string) {
    this.process = process
    this.label = label
    process.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-8192)
    })
    this.exitPromise = new Promise((resolve) => process.once("exit", (code) => resolve(code)))
    const early = () =>
      this.exitPromise.then((code) => {
        throw new Error(`${this.label} exited (code ${code}) before it was done:\n${this.stderr.trim()}`)
      })
    this.readyPromise = Promise.race([
      new Promise<void>((resolve) =>
        process.on("message", (m: ChildMessage) => {
          if (m.type === "ready") resolve()
        })
      ),
      early()
    ])
    this.resultPromise = Promise.race([
      new Promise<R>((resolve) =>
        process.on("message", (m: ChildMessage) => {
          if (m.type === "result") resolve(m as R)
        })
      ),
      early()
    ])
    this.firstPromise = Promise.race([
      new Promise<FirstJob>((resolve) =>
        process.on("message", (m: ChildMessage) => {
          if (m.type === "first") resolve(m)
        })
      ),
      early()
    ])
    // Rejections are observed by whoever awaits; keep unobserved ones from crashing the harness.
    this.readyPromise.catch(() => {})
    this.resultPromise.catch(() => {})
    this.firstPromise.catch(() => {})
  }

  static start<R extends ChildMessage>(script: string, task: unknown, options: SpawnOptions): Child<R> {
    return Child.startModule<R>(Path.join(sourceDir, script), [JSON.stringify(task)], options)
  }

  /** Starts any Node module (the `effect-jobs` binary of the start-up row) with the IPC channel. */
  static startModule<R extends ChildMessage>(
    module: string,
    args: ReadonlyArray<string>,
    options: SpawnOptions
  ): Child<R> {
    const child = fork(module, [...args], {
      stdio: ["ignore", options.verbose ? "inherit" : "ignore", "pipe", "ipc"],
      // The packages' compiled output, as an installed package is loaded (stripping their
      // TypeScript at load costs a worker about 13 MB of RSS): without the sources condition
      // that `npm run bench` sets for this harness.
      execArgv: ["--disable-warning=ExperimentalWarning", ...(options.execArgv ?? [])],
      env: { ...process.env, NODE_OPTIONS: compiledOnly(process.env.NODE_OPTIONS) }
    })
    return new Child<R>(child, options.label)
  }

  /** Its operating-system pid. */
  get pid(): number {
    return this.process.pid!
  }

  ready(timeoutMillis = 60_000): Promise<void> {
    return this.within(this.readyPromise, timeoutMillis, "ready")
  }

  send(message: ParentMessage): void {
    this.process.send(message)
  }

  /** The first handler run of a worker started with `startAtOnce` (or of the start-up row's CLI). */
  first(timeoutMillis: number): Promise<FirstJob> {
    return this.within(this.firstPromise, timeoutMillis, "first job")
  }

  result(timeoutMillis: number): Promise<R> {
    return this.within(this.resultPromise, timeoutMillis, "result")
  }

  /** Waits for the process to end (after its result), killing it by pid if it lingers. */
  async exited(timeoutMillis = 10_000): Promise<void> {
    const timer = setTimeout(() => this.kill(), timeoutMillis)
    await this.exitPromise
    clearTimeout(timer)
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) process.kill(this.pid, "SIGKILL")
  }

  private within<A>(promise: Promise<A>, millis: number, what: string): Promise<A> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill()
        reject(new Error(`${this.label}: no ${what} within ${millis} ms; killed it.\n${this.stderr.trim()}`))
      }, millis)
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }
}

export type ProducerChild = Child<ProducerResult>
export type WorkerChild = Child<WorkerResult>
