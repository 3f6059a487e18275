/** Effect wrappers around the test servers, the quiet backend layer, pollers, and a logger that records lines. */
import { QueueStore } from "@effect-jobs/core"
import { Context, Effect, Layer, Logger, References, type Scope } from "effect"
import * as IoRedis from "../../src/IoRedis.ts"
import * as RedisBackend from "../../src/RedisBackend.ts"
import { command, type RedisServer, startRedisServer } from "./redisServer.ts"

/** Logs below Error dropped: reconnect warnings and the like stay out of test output. */
export const quiet = Layer.succeed(References.MinimumLogLevel, "Error")

/** `RedisBackend.layer` for tests: eviction allowed (test servers run without a policy), logs quiet. */
export const quietBackend = (options: RedisBackend.Options): ReturnType<typeof RedisBackend.layer> =>
  RedisBackend.layer({ allowEviction: true, ...options }).pipe(Layer.provide(quiet))

/** A store on its own connection, closed with the scope (two of them on one prefix: two processes). */
export const storeOf = (
  options: RedisBackend.Options
): Effect.Effect<QueueStore.QueueStore["Service"], Layer.Error<ReturnType<typeof RedisBackend.layer>>, Scope.Scope> =>
  Layer.build(quietBackend(options)).pipe(Effect.map(Context.get(QueueStore.QueueStore)))

/** A job for store tests: name `Test`, queue `default`, its id as the payload. */
export const newJob = (id: string, extra?: Partial<QueueStore.NewJob>): QueueStore.NewJob => ({
  id,
  name: "Test",
  queue: "default",
  payload: JSON.stringify({ id }),
  ...extra
})

/** What `withStore` can set on the store it builds. */
export interface StoreOptions {
  readonly url?: string
  readonly deadSet?: Partial<QueueStore.DeadSetLimits>
  readonly completed?: QueueStore.CompletedRetention
  readonly promoteBatch?: number
}

/** Runs `body` with a store and its client on a fresh prefix of `server` (or of `options.url`). */
export const withStore = <A, E>(
  server: { readonly url: string; readonly prefix: () => string },
  body: (
    store: QueueStore.QueueStore["Service"],
    io: IoRedis.IoRedis["Service"],
    prefix: string
  ) => Effect.Effect<A, E>,
  options: StoreOptions = {}
) =>
  Effect.gen(function* () {
    const prefix = server.prefix()
    const context = yield* Layer.build(
      quietBackend({
        url: options.url ?? server.url,
        prefix,
        ...(options.deadSet === undefined ? {} : { deadSet: options.deadSet }),
        ...(options.completed === undefined ? {} : { completed: options.completed }),
        ...(options.promoteBatch === undefined ? {} : { promoteBatch: options.promoteBatch })
      })
    )
    return yield* body(Context.get(context, QueueStore.QueueStore), Context.get(context, IoRedis.IoRedis), prefix)
  }).pipe(Effect.scoped)

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

/**
 * Waits until every channel has a subscriber on one of the servers (on a cluster, a subscriber
 * sits on any node: pass every node's URL); fails after `millis`. A waiter on a queue's wake
 * channel is then sure to hear the next wake-up, which a fixed sleep would only make likely.
 */
export const subscribed = (urls: ReadonlyArray<string>, channels: ReadonlyArray<string>, millis = 5_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    const count = (channel: string) =>
      Effect.promise(() => Promise.all(urls.map((url) => command(url, "PUBSUB", "NUMSUB", channel)))).pipe(
        Effect.map((replies) => replies.reduce<number>((sum, reply) => sum + Number((reply as Array<unknown>)[1]), 0))
      )
    for (const channel of channels) {
      while ((yield* count(channel)) === 0) {
        if (Date.now() > deadline)
          return yield* Effect.die(new Error(`nobody subscribed to ${channel} within ${millis} ms`))
        yield* Effect.sleep("5 millis")
      }
    }
  })

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
