/**
 * A test Redis Cluster: three `redis-server --cluster-enabled yes` masters on free loopback
 * ports (never 6379), joined with `redis-cli --cluster create … --cluster-replicas 0`, ready
 * once every node says `cluster_state:ok`. `stop` kills every server by its pid.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { command, freePort, type RedisServer, startRedisServer } from "./redisServer.ts"

/** A cluster this test started. */
export interface RedisCluster {
  /** The first node's URL: the store's seed node. */
  readonly url: string
  readonly nodes: ReadonlyArray<RedisServer>
  /** The `host:port` of the master serving `slot`. */
  readonly masterOf: (slot: number) => Promise<string>
  /** `CLUSTER KEYSLOT key`. */
  readonly keyslot: (key: string) => Promise<number>
  readonly stop: () => Promise<void>
}

const run = (cmd: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    child.once("error", reject)
    child.once("exit", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${output}`))
    )
  })

/** Starts a cluster of `masters` nodes (3 by default) and waits until every node reports `cluster_state:ok`. */
export const startRedisCluster = async (masters = 3): Promise<RedisCluster> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-cluster-"))
  const nodes: Array<RedisServer> = []
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()))
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort()
      const nodeDir = Path.join(dir, String(port))
      Fs.mkdirSync(nodeDir)
      nodes.push(
        await startRedisServer({
          port,
          dir: nodeDir,
          args: ["--cluster-enabled", "yes", "--cluster-config-file", Path.join(nodeDir, `nodes-${port}.conf`)]
        })
      )
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes"
    ])
    const deadline = Date.now() + 20_000
    for (const node of nodes) {
      for (;;) {
        const info = String(await command(node.url, "CLUSTER", "INFO"))
        if (/^cluster_state:ok\r?$/m.test(info)) break
        if (Date.now() > deadline) throw new Error(`cluster node ${node.url} did not reach cluster_state:ok: ${info}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  const first = nodes[0]!
  return {
    url: first.url,
    nodes,
    keyslot: async (key) => Number(await command(first.url, "CLUSTER", "KEYSLOT", key)),
    masterOf: async (slot) => {
      const slots = (await command(first.url, "CLUSTER", "SLOTS")) as ReadonlyArray<ReadonlyArray<unknown>>
      for (const [from, to, master] of slots) {
        if (Number(from) <= slot && slot <= Number(to)) {
          const [host, port] = master as ReadonlyArray<unknown>
          return `${String(host)}:${String(port)}`
        }
      }
      throw new Error(`no master serves slot ${slot}`)
    },
    stop
  }
}
