import { assert, describe, it } from "@effect/vitest"
import { fixtures, run } from "./helpers/cli.ts"

describe.concurrent("bad use", () => {
  it("exits 2 with the usage and a suggestion for a misspelled flag", async () => {
    const result = await run(["worker", "--jobs", fixtures.jobs, "--concurency", "3"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "Unrecognized flag: --concurency")
    assert.include(result.stderr, "Did you mean this?")
    assert.include(result.stderr, "--concurrency")
    assert.include(result.stdout, "USAGE")
  })

  it("suggests the closest command for a misspelled command", async () => {
    const result = await run(["wroker"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "Did you mean this?")
    assert.include(result.stderr, "worker")
  })

  it("names an unknown command and exits 2 even when --help follows it", async () => {
    const unknown = [
      ["nosuch", "--help"],
      ["wroker", "-h"],
      ["dead", "shwo", "--help"]
    ]
    const [suggested, help, ...results] = await Promise.all([
      run(["--redis", "redis://127.0.0.1:1", "wroker", "--help"], {}, 50_000),
      // A known command's help is still help, after a global flag's value too.
      run(["--redis", "redis://127.0.0.1:1", "stats", "--help"], {}, 50_000),
      ...unknown.map((args) => run(args, {}, 50_000))
    ])
    unknown.forEach((args, i) => {
      assert.strictEqual(results[i]!.code, 2, args.join(" "))
      assert.include(results[i]!.stderr, `Unknown subcommand "${args[args.length - 2]}"`, args.join(" "))
    })
    assert.strictEqual(suggested!.code, 2)
    assert.include(suggested!.stderr, "Did you mean this?")
    assert.include(suggested!.stderr, "worker")
    assert.strictEqual(help!.code, 0)
    assert.include(help!.stdout, "effect-jobs stats")
  })

  it("exits 2 naming --concurrency when it is not a whole number of at least 1", async () => {
    const result = await run(["worker", "--jobs", fixtures.jobs, "-c", "-1"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--concurrency")
    assert.include(result.stderr, "a whole number >= 1")
  })

  it("exits 2 naming --queue when a weight is not a number", async () => {
    const result = await run(["worker", "--jobs", fixtures.jobs, "-q", "urgent:ten"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--queue")
    assert.include(result.stderr, `weight "ten"`)
  })

  it("exits 2 naming --queue when a queue name is malformed", async () => {
    const result = await run(["worker", "--jobs", fixtures.jobs, "-q", "no spaces"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--queue")
    assert.include(result.stderr, "must be 1-100 characters")
  })

  it("exits 2 naming --shutdown-timeout when it is not a duration", async () => {
    const result = await run(["worker", "--jobs", fixtures.jobs, "--shutdown-timeout", "soon"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--shutdown-timeout")
    assert.include(result.stderr, "a duration such as 30s")
  })

  it("says where it looked when the jobs module does not exist", async () => {
    const result = await run(["worker", "--jobs", "./src/nope.ts"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--jobs ./src/nope.ts: no such file")
    assert.include(result.stderr, "exports your job definitions and handlers")
  })

  it("says what a jobs module should export when it has no handlers", async () => {
    const result = await run(["worker", "--jobs", fixtures.definitionsOnly])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "exports no handlers (found job definitions: Greet)")
    assert.include(result.stderr, "export default [SendWelcome.handle(...)]")
    assert.include(result.stderr, "a Layer providing JobRegistry")
  })

  it("exits 1 with the error when the jobs module throws while loading", async () => {
    const result = await run(["worker", "--jobs", "packages/cli/test/fixtures/throws.ts"])
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, "failed to load: MAILER_URL is not set")
  })

  it("asks for --redis when stats has no shared store to read", async () => {
    const result = await run(["stats"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "stats needs --redis URL")
    assert.include(result.stderr, "in-memory store, which lives inside one process")
  })

  it("asks for --redis for admin commands too", async () => {
    const result = await run(["dead", "retry", "--all"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "dead retry needs --redis URL")
  })
})

describe.concurrent("enqueue validation", () => {
  it("names the field path of a payload that fails its schema", async () => {
    const result = await run([
      "enqueue",
      "SendEmail",
      "--jobs",
      fixtures.jobs,
      "--payload",
      `{"to":"a@example.com","user":{"id":"seven"}}`
    ])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "SendEmail.payload.user.id: Expected number")
    assert.include(result.stderr, "nothing enqueued")
  })

  it("suggests a job name close to an unknown one", async () => {
    const result = await run(["enqueue", "SendEmial", "--jobs", fixtures.jobs, "--payload", "{}"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "no job named SendEmial")
    assert.include(result.stderr, "Did you mean SendEmail?")
  })

  it("refuses a payload that is not JSON", async () => {
    const result = await run(["enqueue", "Greet", "--jobs", fixtures.jobs, "--payload", "{name:"])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--payload is not valid JSON")
  })

  it("refuses --delay together with --at", async () => {
    const result = await run([
      "enqueue",
      "Greet",
      "--jobs",
      fixtures.jobs,
      "--payload",
      `{"name":"a"}`,
      "--delay",
      "5m",
      "--at",
      "2030-01-01T00:00:00Z"
    ])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "give one of --delay and --at")
  })

  it("exits when done although the jobs module holds the event loop open", async () => {
    const result = await run(
      ["enqueue", "Greet", "--jobs", fixtures.holdsHandle, "--payload", '{"name":"Ada"}', "--dry-run"],
      {},
      55_000
    )
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stderr, "1 job(s) valid; nothing written (--dry-run)")
  })

  it("validates a good payload with --dry-run and writes nothing", async () => {
    const result = await run([
      "enqueue",
      "Greet",
      "--jobs",
      fixtures.definitionsOnly,
      "--payload",
      `{"name":"a"}`,
      "--dry-run"
    ])
    assert.strictEqual(result.code, 0)
    assert.include(result.stderr, "1 job(s) valid; nothing written (--dry-run)")
  })

  it("explains that enqueueing needs --redis after checking the payload", async () => {
    const result = await run(["enqueue", "Greet", "--jobs", fixtures.jobs, "--payload", `{"name":"a"}`])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "enqueue needs --redis URL")
    assert.include(result.stderr, "The payload is valid")
  })
})
