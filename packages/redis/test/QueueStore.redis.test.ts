import { afterAll, beforeAll } from "@effect/vitest"
import { type StoreLimits, suite } from "@effect-jobs/core/test/conformance/QueueStoreSuite.ts"
import { Effect, Layer } from "effect"
import { quietBackend } from "./helpers/effects.ts"
import { testRedis } from "./helpers/redisServer.ts"

const redis = testRedis("conformance")
beforeAll(redis.setup, 20_000)
afterAll(redis.teardown, 20_000)

// A fresh key prefix at every build: the suite builds the layer once per test.
const withLimits = (limits: StoreLimits) =>
  Layer.unwrap(Effect.sync(() => quietBackend({ url: redis.url, prefix: redis.prefix(), ...limits })))

suite("RedisQueueStore", withLimits({}), { clock: "live", withLimits })
