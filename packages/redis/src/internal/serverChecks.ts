/** The startup checks: server version, eviction policy, persistence, permissions. */
import * as Effect from "effect/Effect"
import { type RedisCommandError, RedisStartupError, type RedisUnavailable } from "./errors.ts"

type Arg = string | number

/** What the server told the startup checks. */
export interface ServerInfo {
  readonly version: string
  readonly maxmemoryPolicy: string
  /** `aof`, `rdb`, `off`, or `unknown` when the ACL hides the save settings. */
  readonly persistence: "aof" | "rdb" | "off" | "unknown"
  /** Set on Redis Cluster: the number of masters at startup (the checks ran on each). */
  readonly cluster?: { readonly masters: number } | undefined
}

export const infoField = (info: string, field: string): string | undefined =>
  new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim()

const versionAtLeast = (version: string, major: number, minor: number) => {
  const [a = 0, b = 0] = version.split(".").map(Number)
  return a > major || (a === major && b >= minor)
}

/** Checks the server behind `send`; fails with the problem and its fix. */
export const checkServer = (
  url: string,
  send: (command: string, ...args: ReadonlyArray<Arg>) => Effect.Effect<unknown, RedisUnavailable | RedisCommandError>,
  allowEviction: boolean,
  warnPersistence = true
): Effect.Effect<ServerInfo, RedisUnavailable | RedisStartupError> =>
  Effect.gen(function* () {
    const permission = (error: RedisCommandError) =>
      new RedisStartupError({
        url,
        reason: error.code === "NOPERM" ? "permission" : "config",
        message: `${url}: ${error.command} was refused (${error.message}); effect-jobs needs it at startup`
      })
    const info = (section: string) =>
      send("INFO", section).pipe(
        Effect.map(String),
        Effect.catchTag("RedisCommandError", (error) => Effect.fail(permission(error)))
      )
    const serverInfo = yield* info("server")
    const version = infoField(serverInfo, "redis_version") ?? "unknown"
    if (!versionAtLeast(version, 6, 2)) {
      return yield* new RedisStartupError({
        url,
        reason: "version",
        message: `${url} runs Redis ${version}; effect-jobs needs Redis 6.2 or later (LPOP with a count, ZRANGE options)`
      })
    }
    const memory = yield* info("memory")
    const maxmemoryPolicy = infoField(memory, "maxmemory_policy") ?? "unknown"
    if (maxmemoryPolicy !== "noeviction" && !allowEviction) {
      return yield* new RedisStartupError({
        url,
        reason: "eviction",
        message:
          `${url} has maxmemory-policy ${maxmemoryPolicy}: Redis may evict jobs when memory runs short. ` +
          `Run CONFIG SET maxmemory-policy noeviction (and persist it in redis.conf), or pass allowEviction: true`
      })
    }
    const persistenceInfo = yield* info("persistence")
    let persistence: ServerInfo["persistence"] = "unknown"
    if (infoField(persistenceInfo, "aof_enabled") === "1") {
      persistence = "aof"
    } else {
      const save = yield* send("CONFIG", "GET", "save").pipe(
        Effect.map((reply) => (Array.isArray(reply) ? String(reply[1] ?? "") : "")),
        Effect.map((rules) => (rules.trim() === "" ? ("off" as const) : ("rdb" as const))),
        Effect.catchTag("RedisCommandError", () => Effect.succeed("unknown" as const))
      )
      persistence = save
      if (save === "off" && warnPersistence) {
        yield* Effect.logWarning(
          `${url} has persistence off (no AOF, no RDB snapshots): every job is lost if Redis restarts. ` +
            `Turn on appendonly yes for durable jobs`
        )
      }
    }
    return { version, maxmemoryPolicy, persistence }
  })
