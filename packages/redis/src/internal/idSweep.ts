/**
 * Sweeping the id index (`{@index}:ids`): an entry whose job is gone is freed even when the
 * deletion's own `forgetIds` never ran (its reply lost, the process killed between the steps).
 * Each call reads one page of the index (`HSCAN`, about 200 entries, the cursor kept between
 * calls), asks each queue named there whether it still holds the job, and frees the entries
 * of jobs it does not hold with `sweepIds`, which leaves alone any entry changed meanwhile or
 * reserved within the grace period (an enqueue still on its way). The reaper runs it, so the
 * index is swept a page per reap interval per worker.
 */
import type { QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as RedisKeys from "../RedisKeys.ts"
import { asArray, asStrings, queuePattern, reservedQueue, type StoreContext } from "./storeContext.ts"

/** Entries read per call. */
const pageSize = 200

/** Builds the sweep: each run frees the stale entries of one page; returns how many. */
export const make = (ctx: StoreContext, graceMillis: number): Effect.Effect<number, QueueStore.QueueStoreError> => {
  const ids = RedisKeys.idsIndex(ctx.prefix)
  let cursor = "0"
  return Effect.gen(function* () {
    const [next, flat] = asArray(yield* ctx.send("sweeping the id index", "HSCAN", ids, cursor, "COUNT", pageSize))
    cursor = String(next ?? "0")
    const entries = asStrings(flat)
    const byQueue = new Map<string, Array<number>>()
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const queue = reservedQueue(entries[i + 1]!)
      if (!queuePattern.test(queue)) continue
      const positions = byQueue.get(queue)
      if (positions === undefined) byQueue.set(queue, [i])
      else positions.push(i)
    }
    const stale: Array<string> = []
    yield* Effect.forEach(
      byQueue,
      ([queue, positions]) =>
        Effect.map(
          ctx.send("sweeping the id index", "HMGET", ctx.keysOf(queue).meta, ...positions.map((i) => entries[i]!)),
          (records) =>
            asArray(records).forEach((record, k) => {
              const at = positions[k]!
              if (record === null) stale.push(entries[at]!, entries[at + 1]!)
            })
        ),
      { concurrency: "unbounded", discard: true }
    )
    if (stale.length === 0) return 0
    return Number(yield* ctx.run("sweepIds", ctx.lua.sweepIds, [ids], [graceMillis, ...stale]))
  })
}
