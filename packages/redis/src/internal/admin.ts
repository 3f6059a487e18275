/**
 * The Redis store's admin side: numbers, lookups, pages, and moving or deleting jobs by id.
 *
 * These go over the known queues (a set every enqueue and pause adds to), one read-only or
 * per-queue script each, in parallel; pages of a set merge each queue's first entries by score.
 */
import type { JobRecord, QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as RedisKeys from "../RedisKeys.ts"
import { stateLetter, toStored } from "./records.ts"
import { asArray, asStrings, chunks, queuePattern, reservedQueue, type StoreContext } from "./storeContext.ts"

type Store = QueueStore.QueueStore["Service"]
type StoredJob = JobRecord.StoredJob
type Page = { readonly offset: number; readonly limit: number }

const setKey = (set: QueueStore.JobSet, k: RedisKeys.QueueKeys) =>
  set === "scheduled" ? k.scheduled : set === "retry" ? k.retry : k.dead

/** Builds the admin operations. */
export const make = (
  ctx: StoreContext
): Pick<
  Store,
  | "pause"
  | "resume"
  | "stats"
  | "get"
  | "listQueue"
  | "list"
  | "retryNow"
  | "remove"
  | "listQuarantine"
  | "requeueQuarantined"
  | "removeQuarantined"
> => {
  const { checkQueue, eachQueue, forget, getIn, keysOf, knownQueues, lua, remember, run, send } = ctx
  const ids = RedisKeys.idsIndex(ctx.prefix)

  const stats = Effect.gen(function* () {
    const rows = yield* eachQueue((queue) => {
      const k = keysOf(queue)
      return run(
        "stats",
        lua.stats,
        [k.ready, k.scheduled, k.retry, k.leases, k.dead, k.meta, k.stats, k.paused],
        []
      ).pipe(Effect.map((reply) => ({ queue, values: asArray(reply).map(Number) })))
    })
    const total = { processed: 0, failed: 0, scheduled: 0, retry: 0, dead: 0, leased: 0 }
    const queues: Array<QueueStore.QueueStats> = []
    for (const { queue, values } of rows) {
      const [now = 0, size = 0, paused = 0, oldest = -1, scheduled = 0, retry = 0, dead = 0, leased = 0] = values
      total.scheduled += scheduled
      total.retry += retry
      total.dead += dead
      total.leased += leased
      total.processed += values[8] ?? 0
      total.failed += values[9] ?? 0
      queues.push({
        name: queue,
        size,
        paused: paused === 1,
        latencyMillis: oldest < 0 ? 0 : Math.max(0, now - oldest)
      })
    }
    return { ...total, queues } satisfies QueueStore.StoreStats
  })

  const get = (id: string) =>
    Effect.gen(function* () {
      const reservation = yield* send("get", "HGET", ids, id)
      const recorded = typeof reservation === "string" ? reservedQueue(reservation) : undefined
      if (recorded !== undefined && queuePattern.test(recorded)) {
        const [job] = yield* getIn(recorded, [id])
        if (job !== undefined) return Option.some(job)
      }
      // Not where the index says (a step of enqueue or delete still in flight, or a lost one).
      const found = yield* eachQueue((queue) => (queue === recorded ? Effect.succeed([]) : getIn(queue, [id])))
      return Option.fromUndefinedOr(found.map(([job]) => job).find((job) => job !== undefined))
    })

  const listQueue = (queue: string, page: Page) =>
    Effect.gen(function* () {
      if (!queuePattern.test(queue)) return { jobs: [], total: 0 }
      const k = keysOf(queue)
      const offset = Math.max(0, Math.floor(page.offset))
      const limit = Math.floor(page.limit)
      if (limit <= 0) return { jobs: [], total: Number(yield* send("listQueue", "LLEN", k.ready)) }
      const [total, fields] = asArray(
        yield* run("listQueue", lua.listQueue, [k.ready, k.meta, k.payload, k.errors, k.reason], [offset, limit])
      ) as [number, Array<unknown>]
      const jobs: Array<StoredJob> = []
      for (let i = 0; i + 4 < fields.length; i += 5) {
        const job = toStored(String(fields[i]), queue, fields[i + 1], fields[i + 2], fields[i + 3], fields[i + 4])
        if (job !== undefined) jobs.push(job)
      }
      return { jobs, total: Number(total) }
    })

  const list = (set: QueueStore.JobSet, page: Page) =>
    Effect.gen(function* () {
      const offset = Math.max(0, Math.floor(page.offset))
      const limit = Math.max(0, Math.floor(page.limit))
      const reverse = set === "dead"
      // Each queue's first offset + limit entries, merged by score.
      const rows = yield* eachQueue((queue) => {
        const k = keysOf(queue)
        return run(
          "list",
          lua.list,
          [setKey(set, k), k.meta, k.payload, k.errors, k.reason],
          [0, Math.max(1, offset + limit), reverse ? "1" : "0"]
        ).pipe(Effect.map((reply) => ({ queue, reply: asArray(reply) })))
      })
      let total = 0
      const entries: Array<{ readonly score: number; readonly job: StoredJob }> = []
      for (const { queue, reply } of rows) {
        total += Number(reply[0])
        const fields = asArray(reply[1])
        for (let i = 0; i + 5 < fields.length; i += 6) {
          const job = toStored(String(fields[i]), queue, fields[i + 2], fields[i + 3], fields[i + 4], fields[i + 5])
          if (job !== undefined) entries.push({ score: Number(fields[i + 1]), job })
        }
      }
      entries.sort((a, b) => (reverse ? b.score - a.score : a.score - b.score))
      return { jobs: entries.slice(offset, offset + limit).map((entry) => entry.job), total }
    })

  /** Applies a per-queue script to ids over the known queues until each id was found once. */
  const overQueues = (
    jobIds: ReadonlyArray<string>,
    f: (queue: string, ids: ReadonlyArray<string>) => Effect.Effect<unknown, QueueStore.QueueStoreError>,
    after: (queue: string, done: ReadonlyArray<string>) => Effect.Effect<void> = () => Effect.void
  ) =>
    Effect.gen(function* () {
      const remaining = new Set(jobIds)
      let count = 0
      for (const queue of yield* knownQueues) {
        if (remaining.size === 0) break
        for (const chunk of chunks([...remaining])) {
          const done = asStrings(yield* f(queue, chunk))
          for (const id of done) remaining.delete(id)
          count += done.length
          yield* after(queue, done)
        }
      }
      return count
    })

  /** Every queue's quarantine, oldest first; the page's stored text read in one call per queue. */
  const listQuarantine = (page: Page) =>
    Effect.gen(function* () {
      const offset = Math.max(0, Math.floor(page.offset))
      const limit = Math.max(0, Math.floor(page.limit))
      const rows = yield* eachQueue((queue) =>
        send("listQuarantine", "HGETALL", keysOf(queue).quarantine).pipe(
          Effect.map((reply) => ({ queue, fields: asStrings(reply) }))
        )
      )
      const all: Array<{ readonly id: string; readonly queue: string; readonly at: number; readonly reason: string }> =
        []
      for (const { fields, queue } of rows) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const entry = fields[i + 1]!
          const bar = entry.indexOf("|")
          all.push({ id: fields[i]!, queue, at: Number(entry.slice(0, bar)), reason: entry.slice(bar + 1) })
        }
      }
      all.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      const shown = all.slice(offset, offset + limit)
      const byQueue = new Map<string, Array<number>>()
      shown.forEach((entry, i) => {
        const positions = byQueue.get(entry.queue)
        if (positions === undefined) byQueue.set(entry.queue, [i])
        else positions.push(i)
      })
      const texts: Array<ReadonlyArray<unknown>> = []
      yield* Effect.forEach(
        byQueue,
        ([queue, positions]) => {
          const k = keysOf(queue)
          return run(
            "listQuarantine",
            lua.get,
            [k.meta, k.payload, k.errors, k.reason],
            positions.map((i) => shown[i]!.id)
          ).pipe(
            Effect.tap((reply) =>
              Effect.sync(() => {
                const fields = asArray(reply)
                positions.forEach((position, j) => {
                  texts[position] = fields.slice(j * 4, j * 4 + 3)
                })
              })
            )
          )
        },
        { concurrency: "unbounded", discard: true }
      )
      const text = (value: unknown) => (typeof value === "string" ? value : undefined)
      const entries = shown.map((entry, i) => ({
        id: entry.id,
        queue: entry.queue,
        reason: entry.reason,
        quarantinedAt: entry.at,
        record: text(texts[i]?.[0]),
        payload: text(texts[i]?.[1]),
        errors: text(texts[i]?.[2])
      }))
      return { entries, total: all.length } satisfies QueueStore.QuarantinePage
    })

  return {
    // A plain SET: one command is atomic, no script needed.
    pause: (queue) =>
      checkQueue(queue).pipe(
        Effect.andThen(remember(queue)),
        Effect.andThen(send("pause", "SET", keysOf(queue).paused, "1")),
        Effect.asVoid
      ),
    resume: (queue) =>
      checkQueue(queue).pipe(
        Effect.andThen(run("resume", lua.resume, [keysOf(queue).paused], [keysOf(queue).wake])),
        Effect.asVoid
      ),
    stats,
    get,
    listQueue,
    list,
    retryNow: (set, jobIds) =>
      overQueues(jobIds, (queue, chunk) => {
        const k = keysOf(queue)
        return run(
          "retryNow",
          lua.retryNow,
          [setKey(set, k), k.meta, k.ready, k.reason],
          [k.wake, stateLetter[set], ...chunk]
        )
      }),
    remove: (set, jobIds) =>
      overQueues(
        jobIds,
        (queue, chunk) => {
          const k = keysOf(queue)
          return run("remove", lua.remove, [setKey(set, k), k.meta, k.payload, k.errors, k.reason], chunk)
        },
        forget
      ),
    listQuarantine,
    requeueQuarantined: (jobIds) =>
      overQueues(jobIds, (queue, chunk) => {
        const k = keysOf(queue)
        return run("requeueQuarantined", lua.requeueQuarantined, [k.quarantine, k.meta, k.ready], [k.wake, ...chunk])
      }),
    removeQuarantined: (jobIds) =>
      overQueues(
        jobIds,
        (queue, chunk) => {
          const k = keysOf(queue)
          return run("removeQuarantined", lua.removeQuarantined, [k.quarantine, k.meta, k.payload, k.errors], chunk)
        },
        forget
      )
  }
}
