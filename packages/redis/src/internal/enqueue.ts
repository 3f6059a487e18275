/**
 * `enqueue` on Redis: ids unique across queues, jobs written one script call per queue chunk.
 *
 * Two ordered steps, each single-slot and safe to repeat: `reserveIds` records each new id
 * for its queue in the id index, with Redis's time, then `enqueue` writes the jobs in the
 * queue's slot. An id the index records for another queue is a duplicate while that
 * reservation is younger than a grace period (its enqueue may still be on its way) or that
 * queue holds the job; otherwise (a crash between the steps, or a deletion whose `forgetIds`
 * has not run yet) the id is taken over, if the reservation is still the one checked.
 *
 * Ids the client generated (`NewJob.idGenerated`: fresh random 22-character ids, which no other
 * job can hold) skip the index: one round trip per chunk, and their records carry no index mark, so
 * settlements need not free them either. Admin lookups by id fall back to the known queues.
 */
import { QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Arg } from "../IoRedis.ts"
import * as RedisKeys from "../RedisKeys.ts"
import * as PayloadHeader from "./payloadHeader.ts"
import {
  asArray,
  asStrings,
  chunks,
  queuePattern,
  reservedQueue,
  type StoreContext,
  safeMillis
} from "./storeContext.ts"
import * as TickBatch from "./tickBatch.ts"

const outcomeByLetter: Readonly<Record<string, QueueStore.EnqueueOutcome>> = {
  e: "enqueued",
  s: "scheduled",
  d: "duplicate"
}

/** The enqueue script's reply (a letter per job) as outcomes, or `undefined` if it is not one. */
const outcomesOf = (reply: unknown, jobs: number): Array<QueueStore.EnqueueOutcome> | undefined => {
  if (typeof reply !== "string" || reply.length !== jobs) return undefined
  const outcomes = new Array<QueueStore.EnqueueOutcome>(jobs)
  for (let i = 0; i < jobs; i++) {
    const outcome = outcomeByLetter[reply[i]!]
    if (outcome === undefined) return undefined
    outcomes[i] = outcome
  }
  return outcomes
}

const badReply = (reply: unknown) =>
  new QueueStore.QueueStoreError({
    message: `enqueue: unexpected reply from the enqueue script: ${JSON.stringify(reply)?.slice(0, 200)}`,
    retryable: false
  })

/** Builds `enqueue`. */
export const make = (
  ctx: StoreContext,
  runFork: (effect: Effect.Effect<void>) => unknown,
  retrying: <A>(effect: Effect.Effect<A, QueueStore.QueueStoreError>) => Effect.Effect<A, QueueStore.QueueStoreError>,
  reservationGraceMillis: number
): QueueStore.QueueStore["Service"]["enqueue"] => {
  const { checkQueue, getIn, keysOf, lua, remember, run } = ctx
  const ids = RedisKeys.idsIndex(ctx.prefix)

  /**
   * Per id: whether the queue's enqueue script should try it, or it is held by another queue.
   * Another queue's reservation younger than the grace is a duplicate, whether or not that queue
   * holds the job yet: its enqueue may be on its way (a GC pause, a retry after a lost reply),
   * and taking the id over then would let both queues hold it.
   */
  const reserve = Effect.fnUntraced(function* (queue: string, jobIds: ReadonlyArray<string>) {
    const recorded = asStrings(
      yield* retrying(run("enqueue", lua.reserveIds, [ids], [queue, reservationGraceMillis, ...jobIds]))
    )
    const tryIt = jobIds.map((_, i) => recorded[i] === "")
    const elsewhere = new Map<string, Array<number>>()
    jobIds.forEach((_, i) => {
      const answer = recorded[i]!
      if (!answer.startsWith("=")) return
      const other = reservedQueue(answer.slice(1))
      if (!queuePattern.test(other)) return
      const positions = elsewhere.get(other)
      if (positions === undefined) elsewhere.set(other, [i])
      else positions.push(i)
    })
    yield* Effect.forEach(
      elsewhere,
      ([other, positions]) =>
        Effect.gen(function* () {
          const found = yield* getIn(
            other,
            positions.map((i) => jobIds[i]!)
          )
          const stale = positions.filter((_, k) => found[k] === undefined)
          if (stale.length === 0) return
          const taken = asArray(
            yield* retrying(
              run(
                "enqueue",
                lua.takeOverIds,
                [ids],
                [queue, ...stale.flatMap((i) => [jobIds[i]!, recorded[i]!.slice(1)])]
              )
            )
          )
          stale.forEach((i, k) => {
            tryIt[i] = taken[k] === 1
          })
        }),
      { concurrency: "unbounded", discard: true }
    )
    return tryIt
  })

  /**
   * One `enqueue-7` call writing `jobs` (all of `queue`, ids already cleared); their outcomes.
   * Retried through an outage with the same nonce, so a retry after a lost reply answers what
   * the first run did (`enqueued`, not `duplicate`). When it gives up, the error names the ids:
   * the jobs may have been written, and enqueueing them again under those ids cannot double them.
   */
  const writeJobs = (queue: string, jobs: ReadonlyArray<QueueStore.NewJob>) => {
    const keys = keysOf(queue)
    const args: Array<Arg> = [keys.wake, ""]
    for (const job of jobs) {
      args.push(
        job.id,
        job.name,
        PayloadHeader.encode(job.payload, job.trace),
        safeMillis(job.delayMillis),
        job.runAtMillis === undefined ? "" : safeMillis(job.runAtMillis),
        job.idGenerated === true ? "" : "1"
      )
    }
    return Effect.flatMap(
      retrying(
        ctx.runWithNonce(
          "enqueue",
          lua.enqueue,
          [keys.meta, keys.payload, keys.ready, keys.scheduled, keys.stats, keys.replayA, keys.replayB],
          args,
          1
        )
      ).pipe(Effect.mapError((error) => QueueStore.mayHaveWritten(error, jobs))),
      (reply) => {
        const outcomes = outcomesOf(reply, jobs.length)
        return outcomes === undefined ? Effect.fail(badReply(reply)) : Effect.succeed(outcomes)
      }
    )
  }

  const writeChunk = Effect.fnUntraced(function* (
    queue: string,
    jobs: ReadonlyArray<QueueStore.NewJob>,
    chunk: ReadonlyArray<number>,
    results: Array<QueueStore.EnqueueResult>
  ) {
    // Only ids the caller chose go through the id index.
    const chosen = chunk.filter((i) => jobs[i]!.idGenerated !== true)
    const write: Array<number> =
      chosen.length === chunk.length ? [] : chunk.filter((i) => jobs[i]!.idGenerated === true)
    if (chosen.length > 0) {
      const tryIt = yield* reserve(
        queue,
        chosen.map((i) => jobs[i]!.id)
      )
      chosen.forEach((i, k) => {
        if (tryIt[k]) write.push(i)
        else results[i] = { id: jobs[i]!.id, outcome: "duplicate" }
      })
    }
    if (write.length === 0) return
    // Both kinds in one chunk: keep the caller's order.
    if (chosen.length > 0 && chosen.length < chunk.length) write.sort((a, b) => a - b)
    const outcomes = yield* writeJobs(
      queue,
      write.map((i) => jobs[i]!)
    )
    write.forEach((i, k) => {
      results[i] = { id: jobs[i]!.id, outcome: outcomes[k]! }
    })
  })

  // Concurrent single jobs with generated ids (the common `enqueue`) share one script call
  // per queue per tick, in the callers' order. Generated ids skip the id index, so nothing else
  // is needed; a failed call fails its chunk. A big batch answers its callers in two halves, a
  // macrotask apart: the enqueues the first half issues next are written while the second
  // half runs, so Redis and this process work at the same time instead of taking turns.
  const singleRequest = TickBatch.make(
    runFork,
    (queue, jobs: ReadonlyArray<QueueStore.NewJob>) =>
      retrying(remember(queue)).pipe(
        Effect.andThen(writeJobs(queue, jobs)),
        Effect.map((outcomes) => outcomes.map((outcome, i) => Exit.succeed([{ id: jobs[i]!.id, outcome }])))
      ),
    { answerInHalvesFrom: 32 }
  )
  const single = (job: QueueStore.NewJob) =>
    // A malformed queue name goes the general way, where `checkQueue` refuses it.
    !queuePattern.test(job.queue) ? many([job]) : singleRequest(job.queue, job)

  const many = Effect.fnUntraced(function* (jobs: ReadonlyArray<QueueStore.NewJob>) {
    const results = new Array<QueueStore.EnqueueResult>(jobs.length)
    const byQueue = new Map<string, Array<number>>()
    const seen = new Set<string>()
    for (let i = 0; i < jobs.length; i++) {
      const { id, idGenerated, queue } = jobs[i]!
      // A later job of the same call with an id already in it is a duplicate, whatever its queue.
      // Generated ids (132 random bits) cannot repeat: only the caller's own ids are looked up.
      if (idGenerated !== true) {
        if (seen.has(id)) {
          results[i] = { id, outcome: "duplicate" }
          continue
        }
        seen.add(id)
      }
      let positions = byQueue.get(queue)
      if (positions === undefined) {
        yield* checkQueue(queue)
        positions = []
        byQueue.set(queue, positions)
      }
      positions.push(i)
    }
    yield* Effect.forEach(
      byQueue,
      ([queue, positions]) =>
        Effect.andThen(
          retrying(remember(queue)),
          Effect.forEach(chunks(positions), (chunk) => writeChunk(queue, jobs, chunk, results), { discard: true })
        ),
      { concurrency: "unbounded", discard: true }
    )
    return results
  })

  return (jobs) => {
    // Checked before anything is written. An id may not equal the marker the claim keeps in a
    // queue's lease keys (see lua/includes/encoding.lua): the length limit keeps them apart.
    const refused = QueueStore.refusedBatch(jobs)
    if (refused !== undefined) return Effect.fail(refused)
    return jobs.length === 1 && jobs[0]!.idGenerated === true ? single(jobs[0]!) : many(jobs)
  }
}
