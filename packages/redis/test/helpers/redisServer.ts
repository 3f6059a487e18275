/**
 * Test Redis servers: each test file starts its own `redis-server` on a free loopback port
 * (never the shared one on 6379, and never the `REDIS_URL` a user set: the tests stay off
 * the user's Redis), gives every suite its own key prefix and deletes those keys afterwards.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { encodeCommand, parseReply, type Reply } from "./resp.ts"

/** A port nobody listened on a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Sends one command on a fresh connection (admin commands in tests, never on the hot path). */
export const command = (url: string, ...args: ReadonlyArray<string | number>): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const parsed = new URL(url)
    const socket = Net.connect({ host: parsed.hostname, port: Number(parsed.port || 6379) })
    let buffer = Buffer.alloc(0)
    const commands: Array<ReadonlyArray<string | number>> = []
    if (parsed.password !== "") {
      commands.push(
        parsed.username === ""
          ? ["AUTH", decodeURIComponent(parsed.password)]
          : ["AUTH", decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)]
      )
    }
    commands.push(args)
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no reply to ${args[0]} from ${url}`)))
    socket.once("error", reject)
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      let at = 0
      const replies: Array<Reply> = []
      for (;;) {
        const reply = parseReply(buffer, at)
        if (reply === undefined) break
        replies.push(reply[0])
        at = reply[1]
      }
      if (replies.length === commands.length) {
        socket.end()
        resolve(replies[replies.length - 1]!)
      }
    })
    socket.write(commands.map(encodeCommand).join(""))
  })

const redisServerMissing =
  "redis-server is not installed: install the Debian package `redis-server` (apt-get install redis-server); " +
  "the tests start their own servers and never use REDIS_URL"

/** Whether a `redis-server` binary is on the PATH. */
export const hasRedisServer = (): boolean => spawnSync("redis-server", ["--version"]).error === undefined

/** A `redis-server` this test started. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Its working directory (AOF files live here). */
  readonly dir: string
  readonly process: ChildProcess
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. */
  readonly stop: () => Promise<void>
  /** Kills it at once, like a crash (`kill -9`). */
  readonly crash: () => Promise<void>
  /** Starts it again on the same port and directory (after `crash`). */
  readonly restart: () => Promise<RedisServer>
}

const waitForPing = async (url: string, child: ChildProcess, timeoutMillis = 10_000) => {
  const deadline = Date.now() + timeoutMillis
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    const reply = await command(url, "PING").catch((error: Error) => error)
    // A server with `--requirepass` answers NOAUTH: it is up.
    if (reply === "PONG" || (reply instanceof Error && reply.message.startsWith("NOAUTH"))) return
    if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not answer PING: ${String(reply)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

// A test that times out never runs its finalizers: kill what it started when the test process exits.
const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Starts a `redis-server` on a free loopback port, in a temporary directory, without persistence by default. */
export const startRedisServer = async (
  options: { readonly args?: ReadonlyArray<string>; readonly port?: number; readonly dir?: string } = {}
): Promise<RedisServer> => {
  if (!hasRedisServer()) throw new Error(redisServerMissing)
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-redis-"))
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"]
  args.push(...(options.args ?? []))
  const child = spawn("redis-server", args, { stdio: "ignore" })
  running.add(child)
  child.once("exit", () => running.delete(child))
  const url = `redis://127.0.0.1:${port}`
  await waitForPing(url, child)
  const server: RedisServer = {
    url,
    port,
    dir,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 3_000)
        await exited(child)
        clearTimeout(timer)
      }
      Fs.rmSync(dir, { recursive: true, force: true })
    },
    crash: async () => {
      child.kill("SIGKILL")
      await exited(child)
    },
    restart: () => startRedisServer({ ...options, port, dir })
  }
  return server
}

let prefixes = 0

/** A key prefix no other suite or test uses. */
export const uniquePrefix = (name: string): string => `t${process.pid}-${name}-${++prefixes}`

/** Deletes every key under the prefixes. */
export const deleteKeys = async (url: string, usedPrefixes: ReadonlyArray<string>): Promise<void> => {
  for (const prefix of usedPrefixes) {
    let cursor = "0"
    do {
      const reply = (await command(url, "SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)) as [
        string,
        Array<string>
      ]
      cursor = reply[0]
      if (reply[1].length > 0) await command(url, "UNLINK", ...reply[1])
    } while (cursor !== "0")
  }
}

/**
 * The Redis of one test file: a `redis-server` of its own (`REDIS_URL` is ignored on purpose).
 * Call `setup()` in `beforeAll` and `teardown()` in `afterAll`; teardown stops the server,
 * which keeps nothing (no persistence, its directory removed): every test key goes with it.
 */
export const testRedis = (name: string) => {
  let server: RedisServer | undefined
  let url: string | undefined
  const used: Array<string> = []
  return {
    setup: async () => {
      server = await startRedisServer()
      url = server.url
    },
    teardown: async () => {
      await server?.stop()
    },
    get url(): string {
      if (url === undefined) throw new Error("testRedis: call setup() in beforeAll first")
      return url
    },
    /** A fresh prefix, remembered for cleanup. */
    prefix: () => {
      const prefix = uniquePrefix(name)
      used.push(prefix)
      return prefix
    },
    /** True once this file's server runs (always its own: tests may reconfigure it). */
    get owned(): boolean {
      return server !== undefined
    }
  }
}
