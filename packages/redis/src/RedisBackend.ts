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
 *   Layer.provide(RedisBackend.layerConfig({ url: Config.Redacted("REDIS_URL"), prefix: Config.succeed("myapp") }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type { ProcessRegistry, QueueStore } from "@effect-jobs/core"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redis from "effect/persistence/Redis"
import * as IoRedis from "./IoRedis.ts"
import * as RedisProcessRegistry from "./RedisProcessRegistry.ts"
import * as RedisQueueStore from "./RedisQueueStore.ts"

/**
 * Connection, key prefix and store options in one bag.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends IoRedis.ConnectionOptions, RedisQueueStore.Options {}

/**
 * The services the backend provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = QueueStore.QueueStore | ProcessRegistry.ProcessRegistry | Redis.Redis | IoRedis.IoRedis

/**
 * Queue store, process registry, Effect's `Redis` service and the client itself, over one connection.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Services, IoRedis.RedisStartupError | IoRedis.RedisUnavailable> =>
  Layer.mergeAll(RedisQueueStore.layer(options), RedisProcessRegistry.layer(options), IoRedis.layerPersistence).pipe(
    Layer.provideMerge(IoRedis.layer(options))
  )

/**
 * `layer` with its options read from `Config`, each option a `Config` of its own (or a
 * plain object of them): `RedisBackend.layerConfig({ url: Config.Redacted("REDIS_URL") })`.
 * The URL stays `Redacted` until the connection is made.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<Services, IoRedis.RedisStartupError | IoRedis.RedisUnavailable | Config.ConfigError> =>
  Layer.unwrap(Effect.map(Config.unwrap(options), layer))
