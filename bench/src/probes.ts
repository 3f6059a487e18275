/**
 * Read-only looks at each system's keys, so the parent can tell when a queue is drained and
 * count what was written without going through either client library.
 */
import { nowMillis, queueName, type SystemName } from "./protocol.ts"
import type { RespClient } from "./redis.ts"

type Command = ReadonlyArray<string>

interface Probe {
  /** Commands whose replies sum to the jobs not yet settled (ready, scheduled, retrying or running). */
  readonly unsettled: ReadonlyArray<Command>
  /** Commands whose replies sum to the jobs waiting to run now or later. */
  readonly waiting: ReadonlyArray<Command>
  /**
   * Polls in a row that must see nothing unsettled (default 1): more where a job moves
   * between keys in separate commands and can be in none for a moment.
   */
  readonly confirmations?: number
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
        // Leases with a finite deadline, as `leasedCount` in lua/includes/encoding.lua counts
        // them: the set also holds an encoding marker scored +inf.
        ["ZCOUNT", k.leases, "-inf", "(+inf"]
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
  }),
  // Sidekiq 6.4's basic fetch takes a job off the queue with BRPOP and keeps it only in the
  // process until it finishes or is written to the retry set: running jobs are in Redis only
  // in the `<identity>:workers` hashes its heartbeat rewrites every 5 s, too stale to end a
  // drain on. Unsettled is queue + scheduled + retrying; a job still running when that reaches
  // 0 finishes during graceful shutdown and counts in the worker's runs. The poller moves a due
  // retry with ZREM then LPUSH, and a failing job is in no key until its retry is written:
  // two empty polls in a row end a run (dated from the first), and a run still cut short
  // shows as a missing retry in the "handler runs" note.
  sidekiq: async () => ({
    confirmations: 2,
    unsettled: [
      ["LLEN", `queue:${queueName}`],
      ["ZCARD", "schedule"],
      ["ZCARD", "retry"]
    ],
    waiting: [
      ["LLEN", `queue:${queueName}`],
      ["ZCARD", "schedule"]
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
 * Resolves when nothing is left unsettled, polling every `everyMillis`, with the time
 * (`nowMillis`) of the poll that first saw it so; rejects after `timeoutMillis` with the
 * count still pending.
 */
export const waitSettled = async (
  redis: RespClient,
  system: SystemName,
  timeoutMillis: number,
  everyMillis = 5
): Promise<number> => {
  const deadline = performance.now() + timeoutMillis
  const { confirmations = 1, unsettled } = await probes[system]()
  let empty = 0
  let firstEmptyAt = 0
  for (;;) {
    const left = await sum(redis, unsettled)
    const at = nowMillis()
    if (left === 0) {
      if (empty++ === 0) firstEmptyAt = at
      if (empty >= confirmations) return firstEmptyAt
    } else {
      empty = 0
    }
    if (performance.now() > deadline) throw new Error(`${left} job(s) still unsettled after ${timeoutMillis} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMillis))
  }
}
