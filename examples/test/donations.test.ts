import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type RedisServer, startRedisServer } from "@effect-jobs/redis/testing"
import { runExample, startExample } from "./helpers.ts"

const runApp = (args: ReadonlyArray<string>) => runExample("donations", args)

const timingLine = /enqueue time added to a request: median \d+\.\d+ ms, p99 \d+\.\d+ ms \(200 requests, 20 in flight\)/

describe("seed 004: callbacks and jobs (in memory)", () => {
  let run = undefined as unknown as ReturnType<typeof runApp>
  beforeAll(() => {
    run = runApp([])
  }, 90_000)

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
    const app = startExample("donations", ["--requests", "1000000"])
    try {
      // The program fires its requests as soon as it prints this line: the signal lands under load.
      await app.waitFor("worker running", 45_000)
      app.child.kill("SIGTERM")
      assert.strictEqual(await app.exit, 0, app.output())
    } finally {
      app.child.kill("SIGKILL")
    }
    const out = app.output()
    assert.include(out, "shutdown: server closed, then the jobs client, then the worker")
  }, 90_000)
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
