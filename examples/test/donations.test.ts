import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type RedisServer, startRedisServer } from "@effect-jobs/redis/testing"

const script = fileURLToPath(new URL("../src/donations.ts", import.meta.url))

// Runs the program as a user would, in its own process, on real time.
const runApp = (args: ReadonlyArray<string>) => {
  const env = { ...process.env }
  delete env.REDIS_URL
  return spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 60_000, env })
}

const timingLine = /enqueue time added to a request: median \d+\.\d+ ms, p99 \d+\.\d+ ms \(200 requests, 20 in flight\)/

describe("seed 004: callbacks and jobs (in memory)", () => {
  const run = runApp([])

  it("exits cleanly on the embedded store", () => {
    assert.strictEqual(run.status, 0, run.stderr)
    assert.include(run.stdout, "store: in memory (embedded)")
  })

  it("updates every donation's email record in the background", () => {
    assert.include(run.stdout, "email records updated: 200 of 200 donations (50 donors)")
  })

  it("prints the time enqueueing added to a request and the total", () => {
    assert.match(run.stdout, timingLine)
    assert.match(run.stdout, /all 200 responses in \d+ ms; background updates done at \d+ ms/)
  })
})

describe("seed 004: graceful shutdown", () => {
  it("on SIGTERM under load, closes the server, then the facade and the worker, and exits 0", async () => {
    const env = { ...process.env }
    delete env.REDIS_URL
    const child = spawn(process.execPath, [script, "--requests", "1000000"], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (chunk) => {
      out += chunk
    })
    child.stderr.on("data", (chunk) => {
      out += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const deadline = Date.now() + 20_000
    while (!out.includes("worker running") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 300))
    child.kill("SIGTERM")
    assert.strictEqual(await exited, 0, out)
    assert.include(out, "shutdown: server closed, then the jobs client, then the worker")
  }, 30_000)
})

describe("seed 004: callbacks and jobs on Redis (--redis)", () => {
  let server: RedisServer | undefined
  let run: ReturnType<typeof runApp> | undefined
  beforeAll(async () => {
    server = await startRedisServer()
    run = runApp(["--redis", server.url])
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  it("runs the same app on Redis with every email record updated", () => {
    assert.strictEqual(run?.status, 0, run?.stderr)
    assert.include(run?.stdout, "store: Redis")
    assert.include(run?.stdout, "email records updated: 200 of 200 donations (50 donors)")
    assert.match(run?.stdout ?? "", timingLine)
  })
})
