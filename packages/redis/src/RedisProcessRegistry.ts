/**
 * The Redis `ProcessRegistry`: which worker processes are alive, read by dashboards and `stats`.
 *
 * Entries live under their own hash tag (`<prefix>:{@processes}`): a sorted set of process
 * ids by expiry time (Redis `TIME` plus the heartbeat's time to live) and a hash of each
 * process's `ProcessInfo` JSON. Every heartbeat and every listing forgets expired entries
 * first, so a process that died disappears by itself.
 */
import { ProcessRegistry, QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { IoRedis } from "./IoRedis.ts"
import { scripts } from "./internal/scripts.ts"
import * as RedisKeys from "./RedisKeys.ts"

/** Options of the Redis process registry. */
export interface Options {
  /** Key prefix (default `ej`); the same as the queue store's. */
  readonly prefix?: string | undefined
}

const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

// Entries are written by this module from a `ProcessInfo`; only what ordering needs is checked,
// so fields added to `ProcessInfo` later pass through untouched.
const decodeInfo = (text: unknown): Option.Option<ProcessRegistry.ProcessInfo> =>
  Option.filter(
    decodeJson(text),
    (u): u is ProcessRegistry.ProcessInfo =>
      typeof u === "object" &&
      u !== null &&
      typeof (u as ProcessRegistry.ProcessInfo).id === "string" &&
      typeof (u as ProcessRegistry.ProcessInfo).startedAt === "number"
  )

/** Builds the registry over the current `IoRedis`. */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const io = yield* IoRedis
  const keys = RedisKeys.processKeys(options.prefix ?? RedisKeys.defaultPrefix)
  const lua = scripts()
  const run = (operation: string, script: (typeof lua)[keyof typeof lua], args: ReadonlyArray<string | number>) =>
    io.runScript(script, [keys.beats, keys.info], args).pipe(
      Effect.mapError(
        (error) =>
          new QueueStore.QueueStoreError({
            message: `process registry ${operation}: ${error.message}`,
            retryable: error._tag === "RedisUnavailable",
            cause: error
          })
      )
    )
  return ProcessRegistry.ProcessRegistry.of({
    heartbeat: (info, ttlMillis) =>
      Effect.asVoid(
        run("heartbeat", lua.heartbeat, [info.id, Math.max(1, Math.floor(ttlMillis)), JSON.stringify(info)])
      ),
    remove: (id) => Effect.asVoid(run("remove", lua.removeProcess, [id])),
    list: Effect.map(run("list", lua.listProcesses, []), (reply) =>
      (Array.isArray(reply) ? reply : [])
        .flatMap((text) => Option.toArray(decodeInfo(text)))
        .sort((a, b) => a.startedAt - b.startedAt)
    )
  })
})

/** The Redis registry as a layer over `IoRedis`. */
export const layer = (options?: Options): Layer.Layer<ProcessRegistry.ProcessRegistry, never, IoRedis> =>
  Layer.effect(ProcessRegistry.ProcessRegistry, make(options))
