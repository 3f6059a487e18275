/**
 * `enqueue` on Redis: ids unique across queues, jobs written one script call per queue chunk.
 *
 * Two ordered steps, each single-slot and safe to repeat: `reserveIds` records each new id
 * for its queue in the id index, then `enqueue` writes the jobs in the queue's slot. An id the
 * index records for another queue is a duplicate only while that queue still holds the job;
 * otherwise (a crash between the steps, or a deletion whose `forgetIds` has not run yet) the
 * id is taken over.
 *
 * Ids the client generated (`NewJob.idGenerated`: fresh random 22-character ids, which no other
 * job can hold) skip the index: one round trip per chunk, and their records carry no index mark, so
 * settlements need not free them either. Admin lookups by id fall back to the known queues.
 */
import { QueueStore } from "@effect-jobs/core"
import { Effect, Exit } from "effect"
import type { Arg } from "../IoRedis.ts"
import * as RedisKeys from "../RedisKeys.ts"
import { asArray, asStrings, chunks, queuePattern, type StoreContext, safeMillis } from "./storeContext.ts"

type QueueStoreError = QueueStore.QueueStoreError

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
  runFork: (effect: Effect.Effect<void>) => unknown
): QueueStore.QueueStore["Service"]["enqueue"] => {
  const { checkQueue, getIn, keysOf, lua, remember, run } = ctx
  const ids = RedisKeys.idsIndex(ctx.prefix)

  /** Per id: whether the queue's enqueue script should try it, or it is held by another queue. */
  const reserve = (queue: string, jobIds: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const recorded = asStrings(yield* run("enqueue", lua.reserveIds, [ids], [queue, ...jobIds]))
      const tryIt = jobIds.map((_, i) => recorded[i] === "" || recorded[i] === queue)
      const elsewhere = new Map<string, Array<number>>()
      jobIds.forEach((_, i) => {
        const other = recorded[i]!
        if (tryIt[i] || !queuePattern.test(other)) return
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
              yield* run("enqueue", lua.takeOverIds, [ids], [queue, ...stale.flatMap((i) => [jobIds[i]!, other])])
            )
            stale.forEach((i, k) => {
              tryIt[i] = taken[k] === 1
            })
          }),
        { concurrency: "unbounded", discard: true }
      )
      return tryIt
    })

  const writeChunk = (
    queue: string,
    jobs: ReadonlyArray<QueueStore.NewJob>,
    chunk: ReadonlyArray<number>,
    results: Array<QueueStore.EnqueueResult>
  ) =>
    Effect.gen(function* () {
      const keys = keysOf(queue)
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
      const args: Array<Arg> = [keys.wake]
      for (const i of write) {
        const job = jobs[i]!
        args.push(
          job.id,
          job.name,
          job.payload,
          safeMillis(job.delayMillis),
          job.runAtMillis === undefined ? "" : safeMillis(job.runAtMillis),
          job.idGenerated === true ? "" : "1"
        )
      }
      const reply = yield* run(
        "enqueue",
        lua.enqueue,
        [keys.meta, keys.payload, keys.ready, keys.scheduled, keys.stats],
        args
      )
      const outcomes = outcomesOf(reply, write.length)
      if (outcomes === undefined) return yield* Effect.fail(badReply(reply))
      write.forEach((i, k) => {
        results[i] = { id: jobs[i]!.id, outcome: outcomes[k]! }
      })
    })

  // Concurrent single jobs with generated ids (the common `enqueue`) are coalesced by hand, as
  // acks are: the first of a tick schedules a flush after the current microtasks, which writes
  // every job added meanwhile in one script call per queue (per chunk), in the callers' order.
  // Generated ids skip the id index, so nothing else is needed; a failed call fails its chunk.
  // A chunk of more than `splitAbove` jobs answers its callers in two halves (see `writeSingles`).
  type PendingEnqueue = {
    readonly job: QueueStore.NewJob
    readonly resume: (exit: Exit.Exit<ReadonlyArray<QueueStore.EnqueueResult>, QueueStoreError>) => void
  }
  let pending = new Map<string, Array<PendingEnqueue>>()
  const splitAbove = 32
  const writeSingles = (queue: string, chunk: ReadonlyArray<PendingEnqueue>) => {
    const keys = keysOf(queue)
    const args: Array<Arg> = [keys.wake]
    for (const { job } of chunk) {
      args.push(
        job.id,
        job.name,
        job.payload,
        safeMillis(job.delayMillis),
        job.runAtMillis === undefined ? "" : safeMillis(job.runAtMillis),
        ""
      )
    }
    return remember(queue).pipe(
      Effect.andThen(
        run("enqueue", lua.enqueue, [keys.meta, keys.payload, keys.ready, keys.scheduled, keys.stats], args)
      ),
      // Every waiting caller is resumed, whatever happens (a defect too), so none hangs.
      Effect.matchCause({
        onFailure: (cause) => {
          for (const entry of chunk) entry.resume(Exit.failCause(cause))
        },
        onSuccess: (reply) => {
          const outcomes = outcomesOf(reply, chunk.length)
          if (outcomes === undefined) {
            const error = Exit.fail(badReply(reply))
            for (const entry of chunk) entry.resume(error)
            return
          }
          const resume = (from: number, to: number) => {
            for (let i = from; i < to; i++) {
              const entry = chunk[i]!
              entry.resume(Exit.succeed([{ id: entry.job.id, outcome: outcomes[i]! }]))
            }
          }
          // A big chunk resumes its callers in two halves, a macrotask apart: the enqueues the
          // first half issues next are then written while the second half runs, so Redis and
          // this process work at the same time instead of taking turns.
          if (chunk.length < splitAbove) return resume(0, chunk.length)
          const half = chunk.length >> 1
          resume(0, half)
          setImmediate(() => resume(half, chunk.length))
        }
      })
    )
  }
  const flush = () => {
    const batch = pending
    pending = new Map()
    for (const [queue, entries] of batch) {
      for (const chunk of chunks(entries)) runFork(writeSingles(queue, chunk))
    }
  }
  const single = (job: QueueStore.NewJob) =>
    // A malformed queue name goes the general way, where `checkQueue` refuses it.
    !queuePattern.test(job.queue)
      ? many([job])
      : Effect.callback<ReadonlyArray<QueueStore.EnqueueResult>, QueueStoreError>((resume) => {
          if (pending.size === 0) queueMicrotask(flush)
          const entries = pending.get(job.queue)
          const entry: PendingEnqueue = { job, resume }
          if (entries === undefined) pending.set(job.queue, [entry])
          else entries.push(entry)
        })

  const many = (jobs: ReadonlyArray<QueueStore.NewJob>) =>
    Effect.gen(function* () {
      const results = new Array<QueueStore.EnqueueResult>(jobs.length)
      const byQueue = new Map<string, Array<number>>()
      const seen = new Set<string>()
      for (let i = 0; i < jobs.length; i++) {
        const { id, queue } = jobs[i]!
        // A later job of the same call with an id already in it is a duplicate, whatever its queue.
        if (seen.has(id)) {
          results[i] = { id, outcome: "duplicate" }
          continue
        }
        seen.add(id)
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
            remember(queue),
            Effect.forEach(chunks(positions), (chunk) => writeChunk(queue, jobs, chunk, results), { discard: true })
          ),
        { concurrency: "unbounded", discard: true }
      )
      return results
    })

  return (jobs) => (jobs.length === 1 && jobs[0]!.idGenerated === true ? single(jobs[0]!) : many(jobs))
}
