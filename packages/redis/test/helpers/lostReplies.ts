/**
 * Losing replies on purpose: an `IoRedis` whose script calls run on Redis as usual, but whose
 * replies the test can drop. A dropped reply reaches the caller as the `RedisUnavailable` a
 * command timeout gives, after Redis applied the script: exactly what a lost reply is.
 */
import { Effect, Layer } from "effect"
import * as IoRedis from "../../src/IoRedis.ts"

/** Which script replies to drop: `drop(name, call)` with the script's name and its 1-based call count. */
export interface LossPlan {
  drop: (script: string, call: number) => boolean
  /** Replies dropped so far, by script name. */
  readonly dropped: Map<string, number>
}

export const makeLossPlan = (): LossPlan => ({ drop: () => false, dropped: new Map() })

/** Drops the next `n` replies of `script` (and no others). */
export const loseNext = (plan: LossPlan, script: string, n = 1): void => {
  let left = n
  plan.drop = (name) => {
    if (name !== script || left <= 0) return false
    left--
    return true
  }
}

/** `IoRedis.layer(options)` with its script replies dropped as `plan` says. */
export const lossyIoRedis = (
  options: IoRedis.ConnectionOptions,
  plan: LossPlan
): Layer.Layer<IoRedis.IoRedis, IoRedis.RedisStartupError | IoRedis.RedisUnavailable> => {
  const calls = new Map<string, number>()
  return Layer.effect(
    IoRedis.IoRedis,
    Effect.map(IoRedis.IoRedis, (io) =>
      IoRedis.IoRedis.of({
        ...io,
        runScript: (script, keys, args) =>
          Effect.flatMap(io.runScript(script, keys, args), (reply) => {
            const call = (calls.get(script.name) ?? 0) + 1
            calls.set(script.name, call)
            if (!plan.drop(script.name, call)) return Effect.succeed(reply)
            plan.dropped.set(script.name, (plan.dropped.get(script.name) ?? 0) + 1)
            return Effect.fail(
              new IoRedis.RedisUnavailable({
                url: io.url,
                message: `EVALSHA ${script.name}: the reply was dropped by the test (lost reply)`
              })
            )
          })
      })
    )
  ).pipe(Layer.provide(IoRedis.layer(options)))
}
