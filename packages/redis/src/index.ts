/**
 * effect-jobs on Redis: the ioredis adapter, the key layout, and the Redis stores.
 */
export * as IoRedis from "./IoRedis.ts"
export * as RedisBackend from "./RedisBackend.ts"
export * as RedisKeys from "./RedisKeys.ts"
export * as RedisProcessRegistry from "./RedisProcessRegistry.ts"
export * as RedisQueueStore from "./RedisQueueStore.ts"
