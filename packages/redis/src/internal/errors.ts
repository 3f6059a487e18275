/** The typed errors of the Redis client; `IoRedis` re-exports them. */
import * as Schema from "effect/Schema"

/** Redis cannot be reached or did not answer in time; worth retrying. */
export class RedisUnavailable extends Schema.TaggedError<RedisUnavailable>()("RedisUnavailable", {
  /** The server's URL, password masked. */
  url: Schema.String,
  message: Schema.String,
  /** `true` when the command was never sent (no connection came up in time), so it cannot have run. */
  unsent: Schema.optional(Schema.Boolean)
}) {}

/** Redis answered a command with an error (a script error, a missing permission, …). */
export class RedisCommandError extends Schema.TaggedError<RedisCommandError>()("RedisCommandError", {
  command: Schema.String,
  /** The error's first word: `NOSCRIPT`, `NOPERM`, `WRONGTYPE`, `ERR`… */
  code: Schema.String,
  message: Schema.String
}) {}

/** A startup check refused the server; the message names the problem and the fix. */
export class RedisStartupError extends Schema.TaggedError<RedisStartupError>()("RedisStartupError", {
  url: Schema.String,
  reason: Schema.Literals(["auth", "permission", "version", "eviction", "config"]),
  message: Schema.String
}) {}
