/**
 * Which store the commands talk to: Redis when `--redis` or `REDIS_URL` is given, the
 * in-memory store otherwise. Everything else is written against the core contracts
 * (`QueueStore`, `ProcessRegistry`), so this module is the only place the choice shows.
 */
import { MemoryBackend, type ProcessRegistry, type QueueStore } from "@effect-jobs/core"
import * as Cause from "effect/Cause"
import type * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { type CliFailure, failed, usage } from "./CliFailure.ts"
import { formatMillis, maskUrl } from "./internal/values.ts"
import * as Settings from "./Settings.ts"

/** Where the jobs live. */
export type Target =
  | { readonly _tag: "Memory" }
  | {
      readonly _tag: "Redis"
      readonly url: Redacted.Redacted<string>
      readonly prefix: string | undefined
      readonly failFast: boolean
      readonly connectTimeoutMillis: number
      readonly allowEviction: boolean
    }

/** The services a backend gives. */
export type Services = QueueStore.QueueStore | ProcessRegistry.ProcessRegistry

type SettingsContext =
  | GlobalFlag.Setting.Identifier<"redis">
  | GlobalFlag.Setting.Identifier<"prefix">
  | GlobalFlag.Setting.Identifier<"fail-fast">
  | GlobalFlag.Setting.Identifier<"connect-timeout">
  | GlobalFlag.Setting.Identifier<"allow-eviction">

/** The target the flags and environment describe. */
export const target: Effect.Effect<Target, never, SettingsContext> = Effect.gen(function* () {
  const url = Settings.redisUrl(yield* Settings.RedisUrl)
  if (url === undefined) return { _tag: "Memory" } as const
  const prefix = yield* Settings.Prefix
  return {
    _tag: "Redis",
    url,
    prefix: prefix._tag === "Some" ? prefix.value : undefined,
    failFast: yield* Settings.FailFast,
    connectTimeoutMillis: yield* Settings.ConnectTimeout,
    allowEviction: yield* Settings.AllowEviction
  } as const
})

/** A target fit for a log line; the password is masked. */
export const describe = (target: Target): string =>
  target._tag === "Memory"
    ? "in-memory (this process only)"
    : `${maskUrl(Redacted.value(target.url))}${target.prefix === undefined ? "" : ` (prefix ${target.prefix})`}`

/**
 * The Redis target, or a usage error for commands that read or change the jobs of other
 * processes: an in-memory store only exists inside the process that made it.
 */
export const shared = (
  command: string
): Effect.Effect<Target & { readonly _tag: "Redis" }, CliFailure, SettingsContext> =>
  Effect.flatMap(target, (target) =>
    target._tag === "Redis"
      ? Effect.succeed(target)
      : Effect.fail(
          usage(
            `${command} needs --redis URL (or REDIS_URL): without it effect-jobs uses an in-memory store, ` +
              "which lives inside one process (a worker started without --redis keeps its jobs to itself), " +
              "so there is nothing here to read or change. Pass the Redis URL your workers use, " +
              "e.g. --redis redis://127.0.0.1:6379"
          )
        )
  )

/**
 * The store layer for a target. Redis is waited for (the Redis layer logs every retry with
 * the masked URL and the cause); with `--fail-fast` it gives up after `--connect-timeout`.
 * Only the worker (`worker: true`) warns about a Redis without persistence: once per start,
 * not once per `stats` or `enqueue`.
 */
export const layer = (target: Target, options?: { readonly worker?: boolean }): Layer.Layer<Services, CliFailure> => {
  if (target._tag === "Memory") return MemoryBackend.layer()
  // Loaded on first use: `--help`, `--version` and in-memory runs never load ioredis.
  const redis = Layer.unwrap(
    Effect.map(
      Effect.promise(() => import("@effect-jobs/redis")),
      ({ RedisBackend }) =>
        RedisBackend.layer({
          url: target.url,
          connectionName: `effect-jobs-cli:${process.pid}`,
          ...(target.prefix === undefined ? {} : { prefix: target.prefix }),
          ...(target.failFast ? { startupTimeout: target.connectTimeoutMillis } : {}),
          ...(target.allowEviction ? { allowEviction: true } : {}),
          warnPersistence: options?.worker === true
        })
    )
  )
  return Layer.catchCause(redis, (cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Layer.unwrap(Effect.failCause(cause))
    const error = Cause.squash(cause) as { readonly _tag?: string; readonly message?: string }
    const message =
      error._tag === "RedisUnavailable"
        ? `${error.message}` +
          (target.failFast ? ` (gave up after ${formatMillis(target.connectTimeoutMillis)}, --connect-timeout)` : "") +
          "; check the URL and that Redis is running" +
          (target.failFast ? "" : ", or pass --fail-fast to stop retrying")
        : error._tag === "RedisStartupError"
          ? String(error.message)
          : `cannot use ${describe(target)}: ${String(error.message ?? error)}`
    return Layer.unwrap(Effect.fail(failed(message)))
  }) as Layer.Layer<Services, CliFailure>
}

/**
 * Runs an admin program (stats, queues, sets) against the shared store: refuses the
 * in-memory store and turns store errors into a message with exit code 1. A read-only
 * program (`readOnly`: stats, list, show) gives up on an unreachable Redis after
 * `--connect-timeout` as if `--fail-fast` were given: there is nothing to wait for.
 */
export const withSharedStore = <A, R>(
  command: string,
  program: Effect.Effect<A, CliFailure | QueueStore.QueueStoreError, R>,
  options?: { readonly readOnly?: boolean }
): Effect.Effect<A, CliFailure, Exclude<R, Services> | SettingsContext> =>
  Effect.gen(function* () {
    const redis = yield* shared(command)
    return yield* Effect.provide(program, layer(options?.readOnly === true ? { ...redis, failFast: true } : redis))
  }).pipe(Effect.catchTag("QueueStoreError", (error) => Effect.fail(failed(`${command}: ${error.message}`))))
