/**
 * What the parts of the Redis queue store share: the client, the scripts, the keys, and the
 * error mapping at the store boundary (`RedisUnavailable` → retryable `QueueStoreError`).
 */
import { randomBytes } from "node:crypto"
import { JobRecord, QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Arg, IoRedis, LuaScript, RedisCommandError, RedisUnavailable } from "../IoRedis.ts"
import * as RedisKeys from "../RedisKeys.ts"
import { toStored } from "./records.ts"
import { type Scripts, scriptError, scripts } from "./scripts.ts"

type QueueStoreError = QueueStore.QueueStoreError

/** Queue names as core accepts them; they sit inside hash tags, so nothing else passes. */
export const queuePattern = /^[A-Za-z0-9_.:-]{1,100}$/

/** The queue of an id-index entry, `<queue>@<reserved at>` (older entries hold the queue alone). */
export const reservedQueue = (recorded: string): string => {
  const at = recorded.lastIndexOf("@")
  return at < 0 ? recorded : recorded.slice(0, at)
}

/** Ids or leases per script call. */
export const chunkSize = 500

export const chunks = <A>(items: ReadonlyArray<A>, size = chunkSize): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Whole milliseconds the scripts can score exactly: sorted-set scores are `millis * 1024`,
 * exact in a double below 2^53 (the year 2248). Enqueue refuses due times past
 * `JobRecord.maxRunAtMillis` and delays past `JobRecord.maxDelayMillis` before this is reached
 * (`QueueStore.refusedBatch`); leases and retry delays are capped at `maxDelayMillis`
 * (a non-number counts as 0).
 */
export const safeMillis = (millis: number | undefined): number => {
  if (millis === undefined || Number.isNaN(millis)) return 0
  return Math.floor(Math.min(Math.max(millis, -JobRecord.maxRunAtMillis), JobRecord.maxRunAtMillis))
}

/** A lease length or retry delay in whole milliseconds, 0 to `JobRecord.maxDelayMillis`. */
export const delayMillis = (millis: number): number => Math.floor(JobRecord.clampDelay(millis))

export const asArray = (reply: unknown): ReadonlyArray<unknown> => (Array.isArray(reply) ? reply : [])
export const asStrings = (reply: unknown): Array<string> => asArray(reply).map(String)

/** The shared parts. */
export interface StoreContext {
  readonly io: IoRedis["Service"]
  readonly lua: Scripts
  readonly prefix: string
  readonly keysOf: (queue: string) => RedisKeys.QueueKeys
  /**
   * Runs a script whose `args[nonceAt]` carries a new call nonce (this process's random prefix
   * and a counter), kept across the runs of the returned effect (the client's retries), so a
   * replay answers as the first run did, whichever of the runs reaches Redis first.
   */
  readonly runWithNonce: (
    operation: string,
    script: LuaScript,
    keys: ReadonlyArray<string>,
    args: Array<Arg>,
    nonceAt: number
  ) => Effect.Effect<unknown, QueueStoreError>
  /** Runs a script; a negative code becomes a non-retryable error from the one code table. */
  readonly run: (
    operation: string,
    script: LuaScript,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<Arg>
  ) => Effect.Effect<unknown, QueueStoreError>
  readonly send: (
    operation: string,
    command: string,
    ...args: ReadonlyArray<Arg>
  ) => Effect.Effect<unknown, QueueStoreError>
  readonly checkQueue: (queue: string) => Effect.Effect<void, QueueStoreError>
  /** Adds a queue to the known queues (once per process). */
  readonly remember: (queue: string) => Effect.Effect<void, QueueStoreError>
  readonly knownQueues: Effect.Effect<ReadonlyArray<string>, QueueStoreError>
  /** Runs `f` for every known queue, concurrently. */
  readonly eachQueue: <A>(
    f: (queue: string) => Effect.Effect<A, QueueStoreError>
  ) => Effect.Effect<Array<A>, QueueStoreError>
  /** Frees the ids of jobs a queue deleted, in the background. */
  readonly forget: (queue: string, deleted: ReadonlyArray<string>) => Effect.Effect<void>
  /** Reads jobs of one queue by id (`undefined` where absent). */
  readonly getIn: (
    queue: string,
    ids: ReadonlyArray<string>
  ) => Effect.Effect<Array<JobRecord.StoredJob | undefined>, QueueStoreError>
}

/** Builds the shared parts; `scope` owns background work. */
export const make = (io: IoRedis["Service"], prefix: string, scope: Scope.Scope): StoreContext => {
  const lua = scripts()
  const queues = RedisKeys.queuesIndex(prefix)
  const ids = RedisKeys.idsIndex(prefix)
  const keyCache = new Map<string, RedisKeys.QueueKeys>()
  const keysOf = (queue: string) => {
    let keys = keyCache.get(queue)
    if (keys === undefined) {
      keys = RedisKeys.queueKeys(prefix, queue)
      keyCache.set(queue, keys)
    }
    return keys
  }

  const failure = (operation: string) => (error: RedisUnavailable | RedisCommandError) =>
    new QueueStore.QueueStoreError({
      message: `${operation}: ${error.message}`,
      retryable: error._tag === "RedisUnavailable",
      cause: error
    })

  const run: StoreContext["run"] = (operation, script, keys, args) =>
    io.runScript(script, keys, args).pipe(
      Effect.mapError(failure(operation)),
      Effect.flatMap((reply) => {
        const meaning = scriptError(reply)
        return meaning === undefined
          ? Effect.succeed(reply)
          : Effect.fail(new QueueStore.QueueStoreError({ message: `${operation}: ${meaning}`, retryable: false }))
      })
    )

  const send: StoreContext["send"] = (operation, command, ...args) =>
    io.send(command, ...args).pipe(Effect.mapError(failure(operation)))

  const checkQueue = (queue: string) =>
    queuePattern.test(queue)
      ? Effect.void
      : Effect.fail(
          new QueueStore.QueueStoreError({
            message: `queue name ${JSON.stringify(queue)} must be 1-100 characters of letters, digits, '_', '.', ':' or '-'`,
            retryable: false
          })
        )

  const indexed = new Set<string>()
  const remember = (queue: string) =>
    indexed.has(queue)
      ? Effect.void
      : send("remembering the queue", "SADD", queues, queue).pipe(
          Effect.andThen(Effect.sync(() => void indexed.add(queue)))
        )
  const knownQueues = send("listing queues", "SMEMBERS", queues).pipe(Effect.map((reply) => asStrings(reply).sort()))
  const eachQueue = <A>(f: (queue: string) => Effect.Effect<A, QueueStoreError>) =>
    Effect.flatMap(knownQueues, (names) => Effect.forEach(names, f, { concurrency: "unbounded" }))

  // A lost `forgetIds` only leaves an index entry that the next enqueue of the id checks and takes over.
  const forget = (queue: string, deleted: ReadonlyArray<string>) =>
    deleted.length === 0
      ? Effect.void
      : Effect.asVoid(
          Effect.forkIn(
            Effect.forEach(chunks(deleted), (chunk) => run("forgetIds", lua.forgetIds, [ids], [queue, ...chunk]), {
              discard: true
            }).pipe(Effect.catchCause((cause) => Effect.logDebug("freeing job ids failed", cause))),
            scope
          )
        )

  const getIn = (queue: string, jobIds: ReadonlyArray<string>) => {
    const k = keysOf(queue)
    return run("get", lua.get, [k.meta, k.payload, k.errors, k.reason], jobIds).pipe(
      Effect.map((reply) => {
        const fields = asArray(reply)
        return jobIds.map((id, i) =>
          toStored(id, queue, fields[i * 4], fields[i * 4 + 1], fields[i * 4 + 2], fields[i * 4 + 3])
        )
      })
    )
  }

  const noncePrefix = randomBytes(9).toString("base64url")
  let nonceCount = 0
  const runWithNonce: StoreContext["runWithNonce"] = (operation, script, keys, args, nonceAt) => {
    args[nonceAt] = `${noncePrefix}${(++nonceCount).toString(36)}`
    return run(operation, script, keys, args)
  }

  return {
    io,
    lua,
    prefix,
    keysOf,
    runWithNonce,
    run,
    send,
    checkQueue,
    remember,
    knownQueues,
    eachQueue,
    forget,
    getIn
  }
}
