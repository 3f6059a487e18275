/**
 * A `redis-server` of the test file's own, on a free loopback port, killed by pid at the
 * end. Never the shared server on 6379, never `REDIS_URL`: the CLI tests delete and retry
 * whole sets, which must not touch anyone else's data.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

/** A running server. */
export interface RedisServer {
  readonly url: string
  readonly stop: () => Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.setTimeout(1000, () => socket.destroy())
    socket.once("error", () => resolve(false))
    socket.once("close", () => resolve(false))
    socket.once("data", (data) => {
      resolve(data.toString().startsWith("+PONG"))
      socket.end()
    })
    socket.write("PING\r\n")
  })

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

/** Starts `redis-server` without persistence in a temporary directory. */
export const startRedis = async (): Promise<RedisServer> => {
  if (spawnSync("redis-server", ["--version"]).error !== undefined) {
    throw new Error(
      "redis-server is not installed: install the Debian package `redis-server` (apt-get install redis-server)"
    )
  }
  const port = await freePort()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-cli-redis-"))
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: "ignore" }
  )
  for (let waited = 0; !(await ping(port)); waited += 20) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    if (waited > 10_000) throw new Error(`redis-server on port ${port} did not answer PING`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, "SIGTERM")
        const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), 3000)
        await exited(child)
        clearTimeout(timer)
      }
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
