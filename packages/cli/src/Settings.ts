/**
 * Flags every command accepts, wherever they appear on the line: where the store is
 * (`--redis`, `--prefix`), how to connect (`--connect-timeout`, `--fail-fast`) and how to
 * log (`--log-format`; `--log-level` is built into Effect's CLI).
 */
import * as Config from "effect/Config"
import * as Flag from "effect/cli/Flag"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { errorMessage, parsePositiveDuration } from "./internal/values.ts"

/**
 * `--redis URL`, falling back to `REDIS_URL`; none means the in-memory store. Read as
 * `Redacted` (it may hold a password) and handed to the Redis layer as such.
 */
export const RedisUrl = GlobalFlag.Setting("redis")({
  flag: Flag.Redacted("redis").pipe(
    Flag.withMetavar("URL"),
    Flag.withDescription("Redis URL, e.g. redis://:password@host:6379/0 (default: $REDIS_URL; none: in-memory store)"),
    Flag.withFallbackConfig(Config.Redacted("REDIS_URL")),
    Flag.optional
  )
})

/** `--prefix`: the key prefix in Redis, so several apps can share one server. */
export const Prefix = GlobalFlag.Setting("prefix")({
  flag: Flag.String("prefix").pipe(
    Flag.withMetavar("PREFIX"),
    Flag.withDescription("Redis key prefix (default: $EFFECT_JOBS_PREFIX or ej)"),
    Flag.withFallbackConfig(Config.String("EFFECT_JOBS_PREFIX")),
    Flag.optional
  )
})

/**
 * `--connect-timeout`: how long to try reaching Redis before giving up, for the read-only
 * commands always and for the others with `--fail-fast`.
 */
export const ConnectTimeout = GlobalFlag.Setting("connect-timeout")({
  flag: Flag.String("connect-timeout").pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription(
      "Give up reaching Redis after this long (default 5s): stats, list and show always, other commands with --fail-fast"
    ),
    Flag.mapTryCatch(parsePositiveDuration, errorMessage),
    Flag.withDefault(5_000)
  )
})

/** `--fail-fast`: exit non-zero when Redis cannot be reached, instead of retrying forever. */
export const FailFast = GlobalFlag.Setting("fail-fast")({
  flag: Flag.Boolean("fail-fast").pipe(
    Flag.withDescription("Exit with code 1 when Redis stays unreachable for --connect-timeout, instead of retrying"),
    Flag.withDefault(false)
  )
})

/** `--allow-eviction`: accept a Redis whose `maxmemory-policy` may evict keys (jobs). */
export const AllowEviction = GlobalFlag.Setting("allow-eviction")({
  flag: Flag.Boolean("allow-eviction").pipe(
    Flag.withDescription("Accept a Redis whose maxmemory-policy is not noeviction (it may then drop jobs)"),
    Flag.withDefault(false)
  )
})

/** `--log-format`: human on a terminal, JSON lines otherwise, unless told. */
export const LogFormat = GlobalFlag.Setting("log-format")({
  flag: Flag.Literals("log-format", ["human", "json"]).pipe(
    Flag.withMetavar("human|json"),
    Flag.withDescription("Log format (default: human on a terminal, json otherwise); logs go to stderr"),
    Flag.optional
  )
})

/** All of them, for `Command.withGlobalFlags`. */
export const all = [RedisUrl, Prefix, ConnectTimeout, FailFast, AllowEviction, LogFormat] as const

/** The global flags that take a value (the word after them is not a command). */
export const valueFlags: ReadonlySet<string> = new Set(["--redis", "--prefix", "--connect-timeout", "--log-format"])

/** The `--redis` value, if any. */
export const redisUrl = (value: Option.Option<Redacted.Redacted<string>>): Redacted.Redacted<string> | undefined => {
  if (Option.isNone(value)) return undefined
  const url = Redacted.value(value.value).trim()
  return url === "" ? undefined : Redacted.make(url)
}
