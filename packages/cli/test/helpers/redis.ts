/**
 * A `redis-server` of the test file's own, on a free loopback port, killed by pid at the
 * end (from `@effect-jobs/redis/testing`). Never the shared server on 6379, never
 * `REDIS_URL`: the CLI tests delete and retry whole sets, which must not touch anyone else's data.
 */
export { command, type RedisServer, startRedisServer as startRedis } from "@effect-jobs/redis/testing"
