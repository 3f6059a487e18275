/**
 * Read-only looks at each system's keys, so the parent can tell when a queue is drained and
 * count what was written without going through either client library.
 */
import { queueName, type SystemName } from "./protocol.ts"
import type { RespClient } from "./redis.ts"

type Command = ReadonlyArray<string>

interface Probe {
  /** Commands whose replies sum to the jobs not yet settled (ready, scheduled, retrying or running). */
  readonly unsettled: ReadonlyArray<Command>
  /** Commands whose replies sum to the jobs waiting to run now or later. */
  readonly waiting: ReadonlyArray<Command>
}

const bull = (key: string) => `bull:${queueName}:${key}`

const probes: Record<SystemName, () => Promise<Probe>> = {
  // The key layout comes from effect-jobs itself, loaded only when an effect-jobs run needs it.
  "effect-jobs": async () => {
    const { RedisKeys } = await import("@effect-jobs/redis")
    const k = RedisKeys.queueKeys(RedisKeys.defaultPrefix, queueName)
    return {
      unsettled: [
        ["LLEN", k.ready],
        ["ZCARD", k.scheduled],
        ["ZCARD", k.retry],
        ["ZCARD", k.leases]
      ],
      waiting: [
        ["LLEN", k.ready],
        ["ZCARD", k.scheduled]
      ]
    }
  },
  bullmq: async () => ({
    unsettled: [
      ["LLEN", bull("wait")],
      ["LLEN", bull("active")],
      ["LLEN", bull("paused")],
      ["ZCARD", bull("delayed")],
      ["ZCARD", bull("prioritized")]
    ],
    waiting: [
      ["LLEN", bull("wait")],
      ["ZCARD", bull("delayed")]
    ]
  })
}

const sum = async (redis: RespClient, commands: ReadonlyArray<Command>) => {
  const replies = await Promise.all(commands.map((command) => redis.command(...command)))
  return replies.reduce((total: number, reply) => total + Number(reply), 0)
}

/** Jobs written and not yet settled. */
export const unsettledJobs = async (redis: RespClient, system: SystemName): Promise<number> =>
  sum(redis, (await probes[system]()).unsettled)

/** Jobs waiting (ready or scheduled). */
export const waitingJobs = async (redis: RespClient, system: SystemName): Promise<number> =>
  sum(redis, (await probes[system]()).waiting)

/**
 * Resolves when nothing is left unsettled, polling every `everyMillis`; rejects after
 * `timeoutMillis` with the count still pending.
 */
export const waitSettled = async (
  redis: RespClient,
  system: SystemName,
  timeoutMillis: number,
  everyMillis = 5
): Promise<void> => {
  const deadline = performance.now() + timeoutMillis
  const { unsettled } = await probes[system]()
  for (;;) {
    const left = await sum(redis, unsettled)
    if (left === 0) return
    if (performance.now() > deadline) throw new Error(`${left} job(s) still unsettled after ${timeoutMillis} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMillis))
  }
}
