/**
 * The Sidekiq driver: the Node child starts a Ruby process (`bench/sidekiq/producer.rb` or
 * `worker.rb`) and drives it with JSON lines on stdin and stdout. Jobs are written and handled
 * in Ruby, so the Ruby process measures itself (CPU from `Process.times`, RSS sampled every
 * 20 ms, pickup and lateness at handler start) and this driver hands its numbers over.
 *
 * Sidekiq runs with its defaults: 25 retries, per-job start/done log lines (to stderr here,
 * since stdout is the control channel), scheduled and retry sets polled every 5 s on average
 * after a 10–15 s initial wait, basic fetch (a fetched job is in no Redis structure until
 * it finishes or is retried).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import type { ProcessUsage, ProducerWork } from "../protocol.ts"
import type { Producer, RunningWorker, System, WorkerOptions, WorkerReport } from "./System.ts"

const scriptDir = Path.resolve(import.meta.dirname, "..", "..", "sidekiq")

/** A Ruby script speaking JSON lines; its stderr (Sidekiq's log) is kept only as a tail for errors. */
class RubyScript {
  private stderr = ""
  private readonly process: ChildProcess
  private readonly lines: AsyncIterator<string>

  constructor(script: string, args: ReadonlyArray<string>) {
    this.process = spawn("ruby", [Path.join(scriptDir, script), ...args], { stdio: ["pipe", "pipe", "pipe"] })
    this.process.stderr!.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-8192)
    })
    this.lines = Readline.createInterface({ input: this.process.stdout! })[Symbol.asyncIterator]()
    // The Node child dies with its Ruby process.
    process.once("exit", () => this.process.kill("SIGKILL"))
  }

  send(message: Record<string, unknown>): void {
    this.process.stdin!.write(`${JSON.stringify(message)}\n`)
  }

  /** The next message; fails with the end of stderr if the script ends first. */
  async next<A>(type: string): Promise<A> {
    const line = await this.lines.next()
    if (line.done === true) throw new Error(`ruby ${this.script()} ended before "${type}":\n${this.stderr.trim()}`)
    const message = JSON.parse(line.value) as { type: string }
    if (message.type !== type) throw new Error(`ruby ${this.script()}: expected "${type}", got ${line.value}`)
    return message as A
  }

  /** Closes stdin and waits for the process to end. */
  async end(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    const exited = new Promise((resolve) => this.process.once("exit", resolve))
    this.process.stdin!.end()
    await exited
  }

  private script(): string {
    return this.process.spawnargs[1] ?? "script"
  }
}

interface Done {
  readonly written: number
  /** Issue and reply time of each single enqueue of steady work, flattened pairs. */
  readonly replies: ReadonlyArray<number>
  readonly usage: ProcessUsage
}

/** Threads the work runs on, and so connections in the client's pool. */
const threadsFor = (work: ProducerWork): number => {
  switch (work.kind) {
    case "sequential":
    case "bulk":
      return 1
    case "concurrent":
    case "scheduled":
      return work.inFlight
    case "steady":
      return steadyThreads
  }
}

/** Threads that perform the pushes of steady work (the issuing loop never waits for replies). */
const steadyThreads = 100

const producer = async (url: string, work: ProducerWork): Promise<Producer> => {
  const ruby = new RubyScript("producer.rb", [url, String(threadsFor(work))])
  await ruby.next("ready")
  let usage: ProcessUsage | undefined
  return {
    run: async (work, replied) => {
      ruby.send({ type: "run", work })
      const done = await ruby.next<Done>("done")
      for (let i = 0; i + 1 < done.replies.length; i += 2) replied(done.replies[i]!, done.replies[i + 1]!)
      usage = done.usage
      return done.written
    },
    close: () => ruby.end(),
    usage: () => {
      if (usage === undefined) throw new Error("the Sidekiq producer has not run")
      return usage
    }
  }
}

const worker = async ({ concurrency, url }: WorkerOptions): Promise<RunningWorker> => {
  const ruby = new RubyScript("worker.rb", [url, String(concurrency)])
  await ruby.next("ready")
  let report: WorkerReport | undefined
  return {
    start: () => ruby.send({ type: "go" }),
    close: async () => {
      ruby.send({ type: "stop" })
      report = await ruby.next<WorkerReport>("result")
      await ruby.end()
    },
    report: () => {
      if (report === undefined) throw new Error("the Sidekiq worker has not stopped")
      return report
    }
  }
}

export const system: System = { name: "sidekiq", producer, worker }
