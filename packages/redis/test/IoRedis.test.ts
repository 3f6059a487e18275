import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Context, Effect, Exit, Layer, Queue } from "effect"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Redis from "effect/persistence/Redis"
import * as IoRedis from "../src/IoRedis.ts"
import { checkServer } from "../src/internal/serverChecks.ts"
import * as RedisBackend from "../src/RedisBackend.ts"
import { ownServer, recordLogs } from "./helpers/effects.ts"
import { command, freePort, testRedis, uniquePrefix } from "./helpers/redisServer.ts"

const redis = testRedis("ioredis")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

const withPassword = (url: string, user: string, password: string) => {
  const parsed = new URL(url)
  parsed.username = user
  parsed.password = password
  return parsed.toString()
}

/** The failure of building `layer`, or a defect when it builds. */
const buildFailure = <A, E>(layer: Layer.Layer<A, E>) =>
  Effect.scoped(Layer.build(layer)).pipe(
    Effect.exit,
    Effect.flatMap((exit) =>
      Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail"
        ? Effect.succeed(exit.cause.reasons[0].error)
        : Effect.die(new Error(`expected the layer to fail, got ${String(exit)}`))
    )
  )

describe("IoRedis", () => {
  describe("maskUrl", () => {
    it("replaces the password and keeps the rest", () => {
      assert.strictEqual(IoRedis.maskUrl("redis://:s3cret@10.0.0.1:6380/2"), "redis://:****@10.0.0.1:6380/2")
      assert.strictEqual(
        IoRedis.maskUrl("rediss://app:p%40ss@cache.example:6380"),
        "rediss://app:****@cache.example:6380"
      )
      assert.strictEqual(IoRedis.maskUrl("redis://cache.example:6379"), "redis://cache.example:6379")
      assert.strictEqual(IoRedis.maskUrl("not a url //user:secret@host"), "not a url //****@host")
    })
  })

  describe("startup checks", () => {
    it.effect("refuses Redis older than 6.2, naming the version", () =>
      Effect.gen(function* () {
        const send = (_command: string, ...args: ReadonlyArray<string | number>) =>
          Effect.succeed(args[0] === "server" ? "# Server\r\nredis_version:6.0.9\r\n" : "")
        const error = yield* Effect.flip(checkServer("redis://old:6379", send, false))
        assert.strictEqual(error._tag, "RedisStartupError")
        assert.strictEqual((error as IoRedis.RedisStartupError).reason, "version")
        assert.include(error.message, "6.0.9")
        assert.include(error.message, "6.2")
      })
    )

    it.live("refuses a server whose maxmemory-policy may evict jobs, unless allowEviction is set", () =>
      Effect.gen(function* () {
        const server = yield* ownServer(["--maxmemory-policy", "allkeys-lru"])
        const error = yield* buildFailure(IoRedis.layer({ url: server.url }))
        assert.strictEqual(error._tag, "RedisStartupError")
        assert.strictEqual((error as IoRedis.RedisStartupError).reason, "eviction")
        assert.include(error.message, "allkeys-lru")
        assert.include(error.message, "noeviction")
        const io = yield* Effect.scoped(
          Effect.map(Layer.build(IoRedis.layer({ url: server.url, allowEviction: true })), Context.get(IoRedis.IoRedis))
        )
        assert.strictEqual(io.server.maxmemoryPolicy, "allkeys-lru")
      }).pipe(Effect.scoped)
    )

    it.live("warns when persistence is off and not when the AOF is on", () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const off = yield* ownServer()
        yield* Effect.scoped(Layer.build(IoRedis.layer({ url: off.url }))).pipe(Effect.provide(recordLogs(lines)))
        assert.isTrue(
          lines.some((line) => line.includes("persistence off")),
          lines.join("\n")
        )
        const aof = yield* ownServer(["--appendonly", "yes"])
        const aofLines: Array<string> = []
        yield* Effect.scoped(Layer.build(IoRedis.layer({ url: aof.url }))).pipe(Effect.provide(recordLogs(aofLines)))
        assert.isFalse(
          aofLines.some((line) => line.includes("persistence off")),
          aofLines.join("\n")
        )
      }).pipe(Effect.scoped)
    )

    it.live("fails with a typed auth error on a wrong password, the password masked", () =>
      Effect.gen(function* () {
        const server = yield* ownServer(["--requirepass", "right-pass-42"])
        const lines: Array<string> = []
        const error = yield* buildFailure(IoRedis.layer({ url: withPassword(server.url, "", "wrong-pass-17") })).pipe(
          Effect.provide(recordLogs(lines))
        )
        assert.strictEqual(error._tag, "RedisStartupError")
        assert.strictEqual((error as IoRedis.RedisStartupError).reason, "auth")
        assert.include(error.message, "WRONGPASS")
        assert.include(error.message, `redis://:****@127.0.0.1:${server.port}`)
        assert.notInclude(JSON.stringify(error), "wrong-pass-17")
        assert.notInclude(lines.join("\n"), "wrong-pass-17")
        const ok = yield* Effect.exit(
          Effect.scoped(Layer.build(IoRedis.layer({ url: withPassword(server.url, "", "right-pass-42") })))
        )
        assert.isTrue(Exit.isSuccess(ok))
      }).pipe(Effect.scoped)
    )

    it.live("RedisBackend.layerConfig reads a Redacted URL from Config and never shows its password", () =>
      Effect.gen(function* () {
        const server = yield* ownServer(["--requirepass", "config-pass-31"])
        const fromEnv = (env: Record<string, string>) =>
          RedisBackend.layerConfig({
            url: Config.Redacted("JOBS_REDIS_URL"),
            prefix: Config.succeed(uniquePrefix("cfg"))
          }).pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))))
        const lines: Array<string> = []
        const wrong = yield* buildFailure(
          fromEnv({ JOBS_REDIS_URL: withPassword(server.url, "", "config-wrong-8") })
        ).pipe(Effect.provide(recordLogs(lines)))
        assert.strictEqual(wrong._tag, "RedisStartupError")
        assert.notInclude(JSON.stringify(wrong) + wrong.message + lines.join("\n"), "config-wrong-8")
        const missing = yield* buildFailure(fromEnv({}))
        assert.strictEqual(missing._tag, "ConfigError")
        assert.include(String(missing), "JOBS_REDIS_URL")
        const context = yield* Layer.build(fromEnv({ JOBS_REDIS_URL: withPassword(server.url, "", "config-pass-31") }))
        const io = Context.get(context, IoRedis.IoRedis)
        assert.strictEqual(yield* io.send("PING"), "PONG")
        assert.notInclude(io.url, "config-pass-31")
      }).pipe(Effect.scoped)
    )

    it.live("refuses a user whose ACL forbids scripts, naming the permission", () =>
      Effect.gen(function* () {
        const server = yield* ownServer()
        yield* Effect.promise(() =>
          command(server.url, "ACL", "SETUSER", "jobs", "on", ">jobs-pass-9", "~*", "&*", "+@all", "-@scripting")
        )
        const error = yield* buildFailure(
          RedisBackend.layer({ url: withPassword(server.url, "jobs", "jobs-pass-9"), prefix: uniquePrefix("acl") })
        )
        assert.strictEqual(error._tag, "RedisStartupError")
        assert.strictEqual((error as IoRedis.RedisStartupError).reason, "permission")
        assert.include(error.message, "NOPERM")
        assert.include(error.message, "+@scripting")
        assert.notInclude(error.message, "jobs-pass-9")
      }).pipe(Effect.scoped)
    )

    it.live("keeps retrying an unreachable Redis with a log line naming the masked URL", () =>
      Effect.gen(function* () {
        const port = yield* Effect.promise(freePort)
        const lines: Array<string> = []
        const error = yield* buildFailure(
          IoRedis.layer({ url: `redis://:hidden-pw-3@127.0.0.1:${port}`, startupTimeout: "700 millis" })
        ).pipe(Effect.provide(recordLogs(lines)))
        assert.strictEqual(error._tag, "RedisUnavailable")
        assert.include(error.message, `redis://:****@127.0.0.1:${port}`)
        const retries = lines.filter((line) => line.startsWith(`cannot reach redis://:****@127.0.0.1:${port}`))
        assert.isAtLeast(retries.length, 2, lines.join("\n"))
        assert.match(retries[0]!, /ECONNREFUSED.*retrying in \d+\.\d s/)
        assert.notInclude(lines.join("\n") + JSON.stringify(error), "hidden-pw-3")
      })
    )
  })

  describe("commands", () => {
    it.live("fail fast with RedisUnavailable while Redis is down, and work again once it is back", () =>
      Effect.gen(function* () {
        const server = yield* ownServer(["--requirepass", "down-pass-5"])
        const url = withPassword(server.url, "", "down-pass-5")
        const context = yield* Layer.build(IoRedis.layer({ url, commandTimeout: "300 millis" }))
        const io = Context.get(context, IoRedis.IoRedis)
        assert.strictEqual(io.url, `redis://:****@127.0.0.1:${server.port}`)
        assert.strictEqual(yield* io.send("PING"), "PONG")
        yield* Effect.promise(() => server.crash())
        const down = yield* Effect.flip(io.send("PING"))
        assert.strictEqual(down._tag, "RedisUnavailable")
        assert.notInclude(down.message, "down-pass-5")
        const again = yield* Effect.promise(() => server.restart())
        yield* Effect.addFinalizer(() => Effect.promise(() => again.stop()))
        let reply: unknown
        for (let i = 0; i < 100 && reply !== "PONG"; i++) {
          reply = yield* io.send("PING").pipe(Effect.orElseSucceed(() => undefined))
          if (reply !== "PONG") yield* Effect.sleep("50 millis")
        }
        assert.strictEqual(reply, "PONG")
      }).pipe(Effect.scoped)
    )

    // README: "Producers fail fast (RedisUnavailable within 2 s)", the default command timeout,
    // also when the server holds the connection open and never answers (stopped, not crashed).
    it.live(
      "fail with RedisUnavailable within the default 2 s when Redis stops answering",
      () =>
        Effect.gen(function* () {
          const server = yield* ownServer()
          const context = yield* Layer.build(IoRedis.layer({ url: server.url }))
          const io = Context.get(context, IoRedis.IoRedis)
          assert.strictEqual(yield* io.send("PING"), "PONG")
          yield* Effect.acquireRelease(
            Effect.sync(() => server.process.kill("SIGSTOP")),
            () => Effect.sync(() => server.process.kill("SIGCONT"))
          )
          const started = performance.now()
          const down = yield* Effect.flip(io.send("PING"))
          const elapsed = performance.now() - started
          assert.strictEqual(down._tag, "RedisUnavailable")
          assert.isAtLeast(elapsed, 1_500, "waited for the command timeout")
          // 2 s, and a second of slack for a busy machine.
          assert.isBelow(elapsed, 3_000, "failed within the stated 2 s")
        }).pipe(Effect.scoped),
      20_000
    )

    it.live("reloads scripts after SCRIPT FLUSH (NOSCRIPT)", () =>
      Effect.gen(function* () {
        const server = yield* ownServer()
        const context = yield* Layer.build(RedisBackend.layer({ url: server.url, prefix: uniquePrefix("noscript") }))
        const io = Context.get(context, IoRedis.IoRedis)
        const script = IoRedis.luaScript("answer", "return tonumber(ARGV[1]) + 1", 0)
        assert.strictEqual(yield* io.runScript(script, [], [41]), 42)
        yield* Effect.promise(() => command(server.url, "SCRIPT", "FLUSH"))
        assert.strictEqual(yield* io.runScript(script, [], [1]), 2)
        const info = String(yield* Effect.promise(() => command(server.url, "INFO", "commandstats")))
        assert.match(info, /cmdstat_script\|load:calls=\d+/)
      }).pipe(Effect.scoped)
    )
  })

  describe("layerPersistence", () => {
    it.live("backs Effect's RateLimiter", () =>
      Effect.gen(function* () {
        const limiter = yield* RateLimiter.RateLimiter
        const key = uniquePrefix("limit")
        const consume = limiter.consume({ key, limit: 2, window: "10 seconds", onExceeded: "fail" })
        yield* consume
        yield* consume
        const exceeded = yield* Effect.flip(consume)
        assert.strictEqual(exceeded._tag, "RateLimiterError")
      }).pipe(
        Effect.provide(
          RateLimiter.layer.pipe(
            Layer.provide(RateLimiter.layerStoreRedis({ prefix: `${uniquePrefix("limiter")}:` })),
            Layer.provide(IoRedis.layerPersistence),
            Layer.provide(IoRedis.layer({ url: redis.url, allowEviction: true }))
          )
        )
      )
    )

    it.live("hears a channel again after its subscriber connection is cut", () =>
      Effect.gen(function* () {
        const prefix = uniquePrefix("resubscribe")
        const channel = `${prefix}:channel`
        const program = Effect.gen(function* () {
          const service = yield* Redis.Redis
          const messages = yield* service.subscribe(channel)
          yield* service.send("PUBLISH", channel, "before")
          assert.deepStrictEqual(yield* Queue.take(messages), { channel, message: "before" })
          // Cut the subscriber connection (the store's own connections are normal clients).
          yield* service.send("CLIENT", "KILL", "TYPE", "pubsub")
          // Publish until one arrives: the subscriber reconnects and must subscribe again itself.
          yield* Effect.forkScoped(
            service
              .send("PUBLISH", channel, "after")
              .pipe(Effect.ignore, Effect.andThen(Effect.sleep("50 millis")), Effect.forever)
          )
          const next = yield* Queue.take(messages).pipe(Effect.timeout("4 seconds"))
          assert.deepStrictEqual(next, { channel, message: "after" })
        })
        yield* program.pipe(
          Effect.scoped,
          Effect.provide(
            IoRedis.layerPersistence.pipe(Layer.provide(IoRedis.layer({ url: redis.url, allowEviction: true })))
          )
        )
      })
    )

    it.live("gives Effect's Redis service: commands, scripts and pub/sub over the same client", () =>
      Effect.gen(function* () {
        const prefix = uniquePrefix("persistence")
        const program = Effect.gen(function* () {
          const service = yield* Redis.Redis
          assert.strictEqual(yield* service.send("PING"), "PONG")
          yield* service.send("SET", `${prefix}:k`, "v")
          assert.strictEqual(yield* service.send("GET", `${prefix}:k`), "v")
          const double = Redis.script((n: number) => [n], {
            lua: "return tonumber(ARGV[1]) * 2",
            numberOfKeys: 0
          }).withReturnType<number>()
          assert.strictEqual(yield* service.eval(double)(21), 42)
          const messages = yield* service.subscribe(`${prefix}:channel`)
          yield* service.send("PUBLISH", `${prefix}:channel`, "hello")
          const message = yield* Queue.take(messages)
          assert.deepStrictEqual(message, { channel: `${prefix}:channel`, message: "hello" })
          const connection = yield* service.reserve
          assert.strictEqual(yield* connection.send("PING"), "PONG")
          yield* service.send("DEL", `${prefix}:k`)
        })
        yield* program.pipe(
          Effect.scoped,
          Effect.provide(
            IoRedis.layerPersistence.pipe(Layer.provide(IoRedis.layer({ url: redis.url, allowEviction: true })))
          )
        )
      })
    )
  })
})
