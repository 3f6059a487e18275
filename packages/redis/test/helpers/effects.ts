/** Effect wrappers around the test servers, and a logger that records lines. */
import { QueueStore } from "@effect-jobs/core"
import { Effect, Logger } from "effect"
import { type RedisServer, startRedisServer } from "./redisServer.ts"

/** A `redis-server` of this test's own, stopped when the scope closes. */
export const ownServer = (args: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.promise(() => startRedisServer({ args })),
    (server: RedisServer) => Effect.promise(() => server.stop())
  )

/** A logger layer that appends every line to `lines`. */
export const recordLogs = (lines: Array<string>) =>
  Logger.layer([
    Logger.make(({ message }) => {
      lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
  ])

/** Polls `done` every 10 ms until it holds or `millis` pass (live clock). */
export const waitUntil = (done: () => boolean, millis: number) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < millis && !done(); waited += 10) yield* Effect.sleep("10 millis")
  })

/** The store's stats once `processed` reaches `total` (acks land just after the last handlers return), or after 2 s. */
export const statsOnceProcessed = (total: number) =>
  Effect.gen(function* () {
    const store = yield* QueueStore.QueueStore
    let stats = yield* store.stats
    for (let i = 0; i < 200 && stats.processed < total; i++) {
      yield* Effect.sleep("10 millis")
      stats = yield* store.stats
    }
    return stats
  })
