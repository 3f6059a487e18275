/**
 * The Redis backend: every store service effect-jobs needs, kept in Redis.
 *
 * `RedisBackend.layer({ url })` is the production counterpart of `MemoryBackend.layer()`:
 * one checked ioredis connection (`IoRedis`), the queue store, the process registry, and
 * Effect's own `Redis` service (`effect/persistence/Redis`) over the same connection for
 * `RateLimiter` and other Effect persistence modules.
 *
 * ```ts
 * JobWorker.layer({ queues: ["default"], concurrency: 25 }).pipe(
 *   Layer.provide(Handlers),
 *   Layer.provide(RedisBackend.layer({ url: "redis://127.0.0.1:6379", prefix: "myapp" }))
 * )
 * ```
 */
import type { ProcessRegistry, QueueStore } from "@effect-jobs/core"
import * as Layer from "effect/Layer"
import type * as Redis from "effect/persistence/Redis"
import * as IoRedis from "./IoRedis.ts"
import * as RedisProcessRegistry from "./RedisProcessRegistry.ts"
import * as RedisQueueStore from "./RedisQueueStore.ts"

/** Connection, key prefix and store options in one bag. */
export interface Options extends IoRedis.ConnectionOptions, RedisQueueStore.Options {}

/** Queue store, process registry, Effect's `Redis` service and the client itself, over one connection. */
export const layer = (
  options: Options
): Layer.Layer<
  QueueStore.QueueStore | ProcessRegistry.ProcessRegistry | Redis.Redis | IoRedis.IoRedis,
  IoRedis.RedisStartupError | IoRedis.RedisUnavailable
> =>
  Layer.mergeAll(RedisQueueStore.layer(options), RedisProcessRegistry.layer(options), IoRedis.layerPersistence).pipe(
    Layer.provideMerge(IoRedis.layer(options))
  )
