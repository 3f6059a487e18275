/**
 * A `redis-server` of the test file's own, on a free loopback port, killed by pid at the
 * end (from `@effect-jobs/redis/testing`). Never the shared server on 6379, never
 * `REDIS_URL`: the CLI tests delete and retry whole sets, which must not touch anyone else's data.
 * `cliOnRedis()` starts one for a test file and gives the commands that run against it.
 */
import { afterAll, assert, beforeAll } from "@effect/vitest"
import { type RedisServer, startRedisServer } from "@effect-jobs/redis/testing"
import { fixtures, killAll, type Result, type Running, run, start } from "./cli.ts"

export { command, type RedisServer, startRedisServer as startRedis } from "@effect-jobs/redis/testing"

/** Asserts exit status 0, showing both streams otherwise. */
export const ok = (result: Result): Result => {
  assert.strictEqual(result.code, 0, `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`)
  return result
}

/** The lines of a `--json` output, parsed. */
export const jsonLines = (text: string): Array<any> =>
  text
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line))

/** Starts this file's Redis in `beforeAll` (stops it and every CLI process in `afterAll`); the commands use it. */
export const cliOnRedis = (name: string) => {
  let redis: RedisServer | undefined
  let prefixes = 0
  beforeAll(async () => {
    redis = await startRedisServer()
  }, 20_000)
  afterAll(async () => {
    killAll()
    await redis?.stop()
  }, 20_000)

  /** Arguments that point a command at this file's Redis under a prefix of its own. */
  const on = (prefix: string, level = "error") => {
    if (redis === undefined) throw new Error("cliOnRedis: Redis did not start")
    return ["--redis", redis.url, "--prefix", prefix, "--log-level", level]
  }
  const newPrefix = () => `cli-${name}-${++prefixes}`
  const stats = async (prefix: string) => JSON.parse(ok(await run(["stats", "--json", ...on(prefix)])).stdout)
  /** Polls `stats --json` until `done` holds (each poll is a process start, so a few per second). */
  const statsUntil = async (prefix: string, done: (stats: any) => boolean, millis = 20_000) => {
    const deadline = Date.now() + millis
    for (;;) {
      const current = await stats(prefix)
      if (done(current)) return current
      if (Date.now() > deadline) throw new Error(`stats never got there: ${JSON.stringify(current)}`)
    }
  }
  const worker = (prefix: string, ...args: Array<string>): Running =>
    start(["worker", "--jobs", fixtures.jobs, "-q", "default", "-q", "mailers", ...on(prefix, "debug"), ...args])
  /** SIGTERM, then asserts exit status 0. */
  const stop = async (running: Running) => {
    running.kill("SIGTERM")
    const result = await running.exit
    assert.strictEqual(result.code, 0, result.stderr)
  }
  const enqueue = async (prefix: string, job: string, payload: unknown, ...args: Array<string>) =>
    ok(
      await run(["enqueue", job, "--jobs", fixtures.jobs, "--payload", JSON.stringify(payload), ...on(prefix), ...args])
    ).stdout.trim()
  return {
    get url(): string {
      if (redis === undefined) throw new Error("cliOnRedis: Redis did not start")
      return redis.url
    },
    on,
    newPrefix,
    stats,
    statsUntil,
    worker,
    stop,
    enqueue
  }
}
