/**
 * The benchmark's own `redis-server`: started on a free loopback port with persistence off,
 * flushed between runs (it is ours), killed by pid at the end. Never the shared one on 6379.
 *
 * `RespClient` is a minimal pipelining RESP2 client for the harness's admin commands (`INFO`,
 * `FLUSHALL`, `LLEN`…), so the parent process measures without loading either system's client.
 */
import { spawnSync } from "node:child_process"
import * as Net from "node:net"
import { encodeCommand, parseReply, type Reply, startRedisServer as startTestServer } from "@effect-jobs/redis/testing"

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

/** A `redis-server` this harness started. */
export interface RedisServer {
  readonly url: string
  readonly version: string
  /** An admin connection (INFO, FLUSHALL, probes). */
  readonly admin: RespClient
  /** Empties it: every key and every cached script (it is ours), and resets `INFO commandstats`. */
  readonly reset: () => Promise<void>
  /** Stops it (SIGTERM by pid, SIGKILL after 3 s) and removes its directory. */
  readonly stop: () => Promise<void>
}

/**
 * Starts `redis-server` on a free loopback port in a temporary directory, persistence off
 * (`@effect-jobs/redis/testing` starts and stops it), with an admin connection of our own.
 */
export const startRedisServer = async (): Promise<RedisServer> => {
  const version = /v=(\S+)/.exec(spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout ?? "")?.[1]
  const server = await startTestServer()
  const admin = await RespClient.connect(server.url)
  return {
    url: server.url,
    version: version ?? "unknown",
    admin,
    reset: async () => {
      await admin.command("FLUSHALL", "SYNC")
      await admin.command("SCRIPT", "FLUSH", "SYNC")
      await admin.command("CONFIG", "RESETSTAT")
    },
    stop: async () => {
      admin.close()
      await server.stop()
    }
  }
}
