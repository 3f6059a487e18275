/**
 * Test support for code that runs on Redis: start a throwaway `redis-server` on a free
 * loopback port (never the shared 6379), give each suite a unique key prefix, clean up.
 * `@effect-jobs/redis/testing`.
 */
export {
  command,
  deleteKeys,
  freePort,
  hasRedisServer,
  type RedisServer,
  startRedisServer,
  testRedis,
  uniquePrefix
} from "../test/helpers/redisServer.ts"
export { encodeCommand, parseReply, type Reply } from "../test/helpers/resp.ts"
