/**
 * The benchmark's own `redis-server`: started on a free loopback port with persistence off,
 * flushed between runs (it is ours), killed by pid at the end. Never the shared one on 6379.
 *
 * `RespClient` is a minimal pipelining RESP2 client for the harness's admin commands (`INFO`,
 * `FLUSHALL`, `LLEN`…), so the parent process measures without loading either system's client.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { encodeCommand, freePort, parseReply, type Reply } from "@effect-jobs/redis/testing"

export type { Reply }

/** One persistent connection; commands are pipelined and answered in order. */
export class RespClient {
  private buffer = Buffer.alloc(0)
  private readonly waiting: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = []
  private readonly socket: Net.Socket
  private constructor(socket: Net.Socket) {
    this.socket = socket
    socket.on("data", (chunk) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
      let at = 0
      for (;;) {
        const reply = parseReply(this.buffer, at)
        if (reply === undefined) break
        at = reply[1]
        this.waiting.shift()?.resolve(reply[0])
      }
      this.buffer = at === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at)
    })
    const fail = (error: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(error)
    }
    socket.on("error", fail)
    socket.on("close", () => fail(new Error("connection closed")))
  }

  /** Connects to `redis://host:port`. */
  static connect(url: string): Promise<RespClient> {
    const parsed = new URL(url)
    return new Promise((resolve, reject) => {
      const socket = Net.connect({ host: parsed.hostname, port: Number(parsed.port || 6379) }, () => {
        socket.off("error", reject)
        socket.setNoDelay(true)
        resolve(new RespClient(socket))
      })
      socket.once("error", reject)
    })
  }

  /** Sends one command; rejects on an error reply. */
  command(...args: ReadonlyArray<string | number>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.socket.write(encodeCommand(args))
    }).then((reply) => (reply instanceof Error ? Promise.reject(reply) : reply))
  }

  /** `INFO section` as a field → value map. */
  async info(section: string): Promise<Map<string, string>> {
    const text = String(await this.command("INFO", section))
    const fields = new Map<string, string>()
    for (const line of text.split("\r\n")) {
      const colon = line.indexOf(":")
      if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1))
    }
    return fields
  }

  /** Seconds of CPU the server has used (user + system, all its threads). */
  async cpuSeconds(): Promise<number> {
    const cpu = await this.info("cpu")
    return Number(cpu.get("used_cpu_user") ?? 0) + Number(cpu.get("used_cpu_sys") ?? 0)
  }

  /** `used_memory` in bytes. */
  async usedMemory(): Promise<number> {
    return Number((await this.info("memory")).get("used_memory") ?? 0)
  }

  close(): void {
    this.socket.end()
  }
}

/** A port nobody listened on a moment ago. */
/** A `redis-server` this harness started. */
export interface RedisServer {
  readonly url: string
  readonly pid: number
  readonly version: string
  /** An admin connection (INFO, FLUSHALL, probes). */
  readonly admin: RespClient
  /** Empties it: every key and every cached script (it is ours), and resets `INFO commandstats`. */
  readonly reset: () => Promise<void>
  /** Stops it (SIGTERM by pid, SIGKILL after 3 s) and removes its directory. */
  readonly stop: () => Promise<void>
}

/** Starts `redis-server` on a free loopback port in a temporary directory, persistence off. */
export const startRedisServer = async (): Promise<RedisServer> => {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" })
  if (probe.error !== undefined) {
    throw new Error(
      "redis-server is not installed: install the Debian package `redis-server` (apt-get install redis-server)"
    )
  }
  const version = /v=(\S+)/.exec(probe.stdout)?.[1] ?? "unknown"
  const port = await freePort()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-bench-"))
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: "ignore" }
  )
  const url = `redis://127.0.0.1:${port}`
  const deadline = Date.now() + 10_000
  let admin: RespClient | undefined
  while (admin === undefined) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    admin = await RespClient.connect(url).catch(() => undefined)
    if (admin === undefined) {
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await admin.command("PING")
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return {
    url,
    pid: child.pid!,
    version,
    admin,
    reset: async () => {
      await admin.command("FLUSHALL", "SYNC")
      await admin.command("SCRIPT", "FLUSH", "SYNC")
      await admin.command("CONFIG", "RESETSTAT")
    },
    stop: async () => {
      admin.close()
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, "SIGTERM")
        const timer = setTimeout(() => process.kill(child.pid!, "SIGKILL"), 3_000)
        await exited
        clearTimeout(timer)
      }
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
