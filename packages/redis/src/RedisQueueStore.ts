/**
 * The Redis `QueueStore`: every transition is one Lua script on one queue's keys.
 *
 * Semantics are the memory store's (`QueueStore.layerMemory`): claim promotes due scheduled
 * and retry jobs inside the claim script, leases up to N jobs with an owner token and a
 * deadline, and counts the attempt; every settlement is fenced by the token; requeue puts a
 * job at the head of its queue; expired leases are reaped; the dead set is trimmed. Due times
 * come from Redis `TIME` inside the scripts, so a skewed client clock changes nothing.
 *
 * One hash tag per queue makes each script single-slot, so the store works on Redis Cluster;
 * what spans queues is done in ordered, idempotent steps:
 * - Job ids the caller chose are unique across queues through an index of id → queue under
 *   its own tag (ids the client generated are fresh random ids and skip it).
 *   Enqueue reserves the ids there first (with Redis's time), then writes the jobs in the
 *   queue's slot; every deletion frees its ids afterwards (compare-and-delete). Another
 *   queue's reservation is a duplicate for a grace period (at least a minute) even before its
 *   job is written, so two enqueues racing for one id never both land. A crash between the
 *   steps leaves an id recorded for a queue that does not hold it; an enqueue of that id
 *   after the grace checks the queue and takes the id over. One race remains: an id re-enqueued into the same queue
 *   right after its job was deleted may lose its index entry, and only then could the same
 *   id be enqueued into a second queue.
 * - A claim over several queues is one script call per queue, in the given order, until
 *   the limit is filled; it promotes due jobs of those queues only.
 * - The dead-set limits apply to each queue's dead set.
 * - `get` finds a job through the id index (falling back to every known queue);
 *   `retryNow`, `remove` and the store-wide operations (`reap`, `promote`, `stats`, `list`)
 *   go over the known queues, a set every enqueue and pause adds to.
 * - Completed jobs are deleted at once; the per-queue `processed` and `failed` counters stay.
 *   With the `completed` option they are kept in a per-queue completed set instead (their
 *   ids stay taken, in the index too) and trimmed at each ack; trimmed ids are freed.
 *
 * Round trips are the cost: a worker's acks ride on its next claim (`ackAndClaim`: one
 * `claim-14` call per queue completes the finished jobs and leases the next ones); other
 * concurrent `ack`s and `retry`s are coalesced into one script call per queue per tick;
 * `enqueue` writes a queue's jobs in one call per chunk (and concurrent single generated-id
 * `enqueue`s likewise share one call per queue per tick); inside the scripts a batch costs
 * one command per step, not one per job. Lease tokens carry their queue
 * (`<queue>|<owner>:<sequence>`) so settlements need no lookup. The sequence is the queue's claim counter, so a token is never reused, not even for
 * a re-enqueued id. Settlements are fenced and idempotent, so they retry through a short
 * outage (`settleRetry`) instead of leaving the lease to expire.
 *
 * Idle workers sleep in `awaitWork` on pub/sub rather than polling: scripts `PUBLISH` on the
 * queue's wake channel when they make work ready, and a client-side timer wakes the worker
 * at the next due time to the millisecond (blocking commands such as `BZPOPMIN` time out on
 * Redis's `hz` tick, up to 100 ms late). One subscriber connection serves the process.
 * Right after a claim that found a queue empty, `awaitWork` asks Redis nothing: the claim
 * reported the next due time, and a wake-up heard since the claim was sent means "look again".
 */
import { JobRecord, QueueStore } from "@effect-jobs/core"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import {
  IoRedis,
  type LuaScript,
  RedisStartupError,
  type RedisUnavailable,
  RedisUnavailable as RedisUnavailableError
} from "./IoRedis.ts"
import * as Admin from "./internal/admin.ts"
import * as Enqueue from "./internal/enqueue.ts"
import * as IdSweep from "./internal/idSweep.ts"
import { jobFieldCount, toClaimed } from "./internal/records.ts"
import { scriptError } from "./internal/scripts.ts"
import * as StoreContext from "./internal/storeContext.ts"
import { asArray, asStrings, chunks, delayMillis as boundedDelay, queuePattern } from "./internal/storeContext.ts"
import * as TickBatch from "./internal/tickBatch.ts"
import * as Wakeups from "./internal/wakeups.ts"
import * as RedisKeys from "./RedisKeys.ts"

type ClaimedJob = JobRecord.ClaimedJob
type Lease = JobRecord.Lease
type QueueStoreError = QueueStore.QueueStoreError

/** Options of the Redis queue store. */
export interface Options {
  /** Key prefix (default `ej`); give each application or test its own. */
  readonly prefix?: string | undefined
  /** Dead-set limits per queue (default 10,000 jobs, 180 days). */
  readonly deadSet?: Partial<QueueStore.DeadSetLimits> | undefined
  /** Most due jobs one claim or promote call moves from each set (default 1,000). */
  readonly promoteBatch?: number | undefined
  /** How long a settlement keeps retrying while Redis is unreachable (default 10 s). */
  readonly settleRetry?: Duration.Input | undefined
  /** Keep completed jobs per queue, newest `keepLast` and for `keepFor` (default: delete at ack). */
  readonly completed?: QueueStore.CompletedRetention | undefined
  /**
   * Bytes of payloads and error histories one claim call returns at most, past its first job
   * (default 1 MiB): a claim's reply must arrive within the command timeout, also on a slow link.
   */
  readonly claimBytes?: number | undefined
}

/** The queue a lease token names, or `undefined` when it was not issued by this store. */
const queueOfToken = (token: string): string | undefined => {
  const bar = token.indexOf("|")
  const queue = bar > 0 ? token.slice(0, bar) : undefined
  return queue !== undefined && queuePattern.test(queue) ? queue : undefined
}

/** Whether the lease's job id is in the id index (the caller chose it), so deleting the job frees it. */
const indexedToken = (token: string): boolean => token.endsWith("+")

/** Builds the store over the current `IoRedis`; loads the scripts and checks the ACL first. */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const io = yield* IoRedis
  const prefix = options.prefix ?? RedisKeys.defaultPrefix
  const problem = RedisKeys.prefixProblem(prefix)
  if (problem !== undefined) return yield* new RedisStartupError({ url: io.url, reason: "config", message: problem })
  const maxDeadJobs = options.deadSet?.maxJobs ?? QueueStore.defaultDeadSetLimits.maxJobs
  const maxDeadAge = Duration.toMillis(options.deadSet?.maxAge ?? QueueStore.defaultDeadSetLimits.maxAge)
  const maxDeadAgeMillis = Number.isFinite(maxDeadAge) ? Math.floor(maxDeadAge) : Number.MAX_SAFE_INTEGER / 2048
  const promoteBatch = Math.max(1, options.promoteBatch ?? 1000)
  const settleRetry = options.settleRetry ?? Duration.seconds(10)
  const claimBytes = Math.max(0, Math.floor(options.claimBytes ?? 1024 * 1024))
  // Another queue's reservation of a caller-chosen id is left alone this long: well past the
  // time an enqueue may take to land, its retries through an outage included.
  const reservationGraceMillis = Math.max(60_000, 6 * Duration.toMillis(Duration.fromInputUnsafe(settleRetry)))
  const completedLimits = QueueStore.completedLimits(options.completed)
  const limitArg = (n: number) => (Number.isFinite(n) ? String(Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER)) : "-1")
  const retentionArgs =
    completedLimits === undefined
      ? ["", "-1", "-1"]
      : ["1", limitArg(completedLimits.keepLast), limitArg(completedLimits.keepForMillis)]
  const scope = yield* Effect.scope
  const ctx = StoreContext.make(io, prefix, scope)
  const wakeups = Wakeups.make(io, scope)
  // Queues the last claim found empty, while listening for wake-ups: with nothing heard since
  // the claim's mark, the queue is still empty and `awaitWork` needs no look of its own.
  const drained = new Map<string, { readonly mark: number; readonly wakeAt: number | undefined }>()
  const { eachQueue, forget, keysOf, lua, run } = ctx
  const sweepIds = IdSweep.make(ctx, reservationGraceMillis)

  // Startup: load every script (proves EVALSHA/SCRIPT are allowed) and run a probe that
  // writes under the prefix and publishes, so a missing ACL permission fails here, by name.
  yield* Effect.forEach(Object.values(lua), (script: LuaScript) => io.send("SCRIPT", "LOAD", script.lua), {
    concurrency: "unbounded",
    discard: true
  }).pipe(
    Effect.andThen(io.runScript(lua.probe, [RedisKeys.probe(prefix)], [RedisKeys.probe(prefix)])),
    Effect.catchTag("RedisCommandError", (error) =>
      Effect.fail(
        new RedisStartupError({
          url: io.url,
          reason: error.code === "NOPERM" ? "permission" : "config",
          message:
            `${io.url}: ${error.command} was refused (${error.message}); the Redis user needs ` +
            `+@scripting +@read +@write +@pubsub +info on keys ${RedisKeys.pattern(prefix)}`
        })
      )
    )
  )

  // Settlements are fenced, and every script answers a replay as its first run did (claims and
  // enqueues by their call's nonce, settlements by the lease token: lua/includes/replay.lua),
  // so retrying one through a short outage or a lost reply is safe and keeps its answer.
  // Built once: a schedule is a description, each retry runs its own.
  const settleRetrying = {
    while: (error: QueueStoreError) => error.retryable,
    schedule: Schedule.exponential("50 millis").pipe(Schedule.jittered, Schedule.upTo({ duration: settleRetry }))
  }
  // An enqueue whose reply may have been lost tries once more, at once (same nonce: it answers
  // as the first run did); one that was never sent (no connection) fails at once, so a producer
  // learns of an outage within a command timeout (the error names the ids it may have written).
  const enqueueRetrying = {
    while: (error: QueueStoreError) =>
      error.retryable && !(error.cause instanceof RedisUnavailableError && error.cause.unsent === true),
    schedule: Schedule.spaced("50 millis"),
    times: 1
  }
  // The first attempt runs bare (the common case costs no retry driver); a retryable failure
  // enters the schedule, whose first delay comes before the next attempt, as with a plain retry.
  const retryingWith =
    (retrying: typeof settleRetrying | typeof enqueueRetrying) =>
    <A>(effect: Effect.Effect<A, QueueStoreError>) =>
      Effect.catch(effect, (error) => {
        if (!error.retryable) return Effect.fail(error)
        let failedOnce = false
        return Effect.retry(
          Effect.suspend(() => {
            if (failedOnce) return effect
            failedOnce = true
            return Effect.fail(error)
          }),
          retrying
        )
      })
  const settling = retryingWith(settleRetrying)

  /**
   * Per lease, whether the ack completed it (`heldAt`, read from `ack-9`'s integers or
   * `claim-14`'s `acked` characters); and the ids to free in the id index: completed jobs
   * whose id the caller chose (deleted at once, unless retention keeps them) and, with
   * retention, those the reply says were deleted anyway (record missing, or trimmed).
   */
  const ackOutcome = (
    leases: ReadonlyArray<Lease>,
    heldAt: (index: number) => boolean,
    deletedReply: ReadonlyArray<unknown>
  ) => {
    const deleted: Array<string> = completedLimits === undefined ? [] : asStrings(deletedReply)
    const acked = leases.map((lease, i) => {
      const held = heldAt(i)
      if (held && completedLimits === undefined && indexedToken(lease.token)) deleted.push(lease.id)
      return held
    })
    return { acked, deleted }
  }

  /** One `claim-14` call on one queue: acks `acks` (all of this queue), then leases up to `limit`. */
  const claimQueue = (
    queue: string,
    limit: number,
    owner: string,
    leaseMillis: number,
    acks: ReadonlyArray<Lease> = []
  ): Effect.Effect<QueueStore.AckAndClaimResult, QueueStoreError> => {
    const keys = keysOf(queue)
    // Taken before the call: a wake-up published after the claim ran is newer than this mark.
    const mark = wakeups.listening(queue) ? wakeups.mark() : undefined
    const args: Array<string | number> = [limit, owner, boundedDelay(leaseMillis), promoteBatch, queue]
    const nonceAt = args.length + retentionArgs.length
    args.push(...retentionArgs, "", claimBytes)
    for (const lease of acks) args.push(lease.id, lease.token)
    // Retried with the same nonce: a retry after a lost reply gets the first run's leases back
    // instead of leasing more and counting their attempts again.
    return settling(
      ctx.runWithNonce(
        "claim",
        lua.claim,
        [
          keys.ready,
          keys.scheduled,
          keys.retry,
          keys.leases,
          keys.meta,
          keys.payload,
          keys.token,
          keys.errors,
          keys.paused,
          keys.stats,
          keys.completed,
          keys.replayA,
          keys.replayB,
          keys.quarantine
        ],
        args,
        nonceAt
      )
    ).pipe(
      Effect.flatMap((reply) => {
        const [now, deadline, , packed, looseJobs, dropped, ackedText, ackDeleted, nextDue] = asArray(reply) as [
          number,
          number,
          number,
          string,
          Array<string>,
          Array<string>,
          string,
          Array<unknown>,
          number
        ]
        if (mark !== undefined && nextDue !== -2) {
          drained.set(queue, { mark, wakeAt: nextDue < 0 ? undefined : Date.now() + (nextDue - now) })
        } else drained.delete(queue)
        // Five fields per job, each ending with a NUL byte (so the split leaves one "" at the end).
        const fields = packed === "" ? [""] : packed.split("\u0000")
        if ((fields.length - 1) % jobFieldCount !== 0) {
          return Effect.die(
            new Error(`claim-14 returned ${fields.length - 1} job fields, not ${jobFieldCount} per job`)
          )
        }
        const claimed: Array<ClaimedJob> = []
        const leaseDeadline = Number(deadline)
        const claimedAt = Number(now)
        // A record this client cannot read is set aside on its own; the rest of the batch runs.
        let unreadable: Array<Lease> | undefined
        const take = (from: ReadonlyArray<string>, i: number) => {
          const job = toClaimed(queue, from, i, leaseDeadline, claimedAt)
          if (job !== undefined) claimed.push(job)
          else (unreadable ??= []).push({ id: from[i]!, token: from[i + 1]! })
        }
        for (let i = 0; i + jobFieldCount < fields.length; i += jobFieldCount) take(fields, i)
        for (let i = 0; i + jobFieldCount <= looseJobs.length; i += jobFieldCount) take(looseJobs, i)
        const { acked, deleted } = ackOutcome(acks, (i) => ackedText[i] === "1", ackDeleted)
        const result = { acked, jobs: claimed }
        if (dropped.length === 0 && unreadable === undefined) {
          return deleted.length === 0 ? Effect.succeed(result) : Effect.as(forget(queue, deleted), result)
        }
        return Effect.all([
          forget(queue, deleted),
          dropped.length === 0 ? Effect.void : quarantined(queue, dropped),
          unreadable === undefined ? Effect.void : setAside(queue, unreadable)
        ]).pipe(Effect.as(result))
      })
    )
  }

  const quarantineHint = "see `effect-jobs admin quarantine list`"
  /** Says which entries a claim set aside in the quarantine. */
  const quarantined = (queue: string, ids: ReadonlyArray<string>) =>
    Effect.logWarning(
      `set aside ${ids.length} job(s) of ${queue} whose record this worker cannot read, kept in the ` +
        `quarantine (${quarantineHint}): ${ids.slice(0, 20).join(", ")}${ids.length > 20 ? ", …" : ""}`
    )
  /**
   * Sets claimed jobs whose record this client cannot read aside (fenced by their lease).
   * Should this call fail, their leases run out and the reaper, which reads records as the
   * scripts do, sets them aside.
   */
  const setAside = (queue: string, leases: ReadonlyArray<Lease>) => {
    const k = keysOf(queue)
    const args = ["the record is not in a format this client reads"]
    for (const lease of leases) args.push(lease.id, lease.token)
    return run("quarantine", lua.quarantine, [k.leases, k.token, k.quarantine], args).pipe(
      Effect.flatMap((reply) => quarantined(queue, asStrings(reply))),
      Effect.catchCause((cause) => Effect.logWarning(`setting unreadable jobs of ${queue} aside failed`, cause))
    )
  }

  // Calls made per job or per claim are generator functions built once (`Effect.fnUntraced`),
  // not `Effect.gen(function* ...)` per call: V8's scavenger keeps each new generator closure's
  // surroundings alive for a while, and at one claim per job that kept ~0.5 MB per scavenge
  // alive and doubled a worker's young generation.
  // Each queue's acks ride on that queue's claim call; acks of queues the claim does not reach
  // (the limit was filled first) are sent on their own, one ack call per queue. Once one call
  // has succeeded, a later failure no longer fails the whole: the jobs claimed so far are
  // returned, and the acks that failed are answered `undefined` (the caller sends them again).
  const ackAndClaim: QueueStore.QueueStore["Service"]["ackAndClaim"] = Effect.fnUntraced(function* (
    acks: ReadonlyArray<Lease>,
    { leaseMillis, limit, owner, queues }: QueueStore.ClaimOptions
  ) {
    const acked: Array<boolean | undefined> = acks.map(() => false)
    const groups = new Map<string, Array<number>>()
    acks.forEach((lease, i) => {
      const queue = queueOfToken(lease.token)
      if (queue === undefined) return
      const group = groups.get(queue)
      if (group === undefined) groups.set(queue, [i])
      else group.push(i)
    })
    const record = (
      positions: ReadonlyArray<number> | undefined,
      held: ReadonlyArray<boolean | undefined> | undefined
    ) =>
      positions?.forEach((position, k) => {
        acked[position] = held === undefined ? undefined : held[k]
      })
    const claimed: Array<ClaimedJob> = []
    let succeeded = false
    for (const queue of queues) {
      const positions = groups.get(queue)
      if ((claimed.length >= limit && positions === undefined) || !queuePattern.test(queue)) continue
      groups.delete(queue)
      const result = yield* Effect.result(
        claimQueue(
          queue,
          Math.max(0, limit - claimed.length),
          owner,
          leaseMillis,
          positions?.map((i) => acks[i]!)
        )
      )
      if (result._tag === "Failure") {
        if (!succeeded) return yield* Effect.fail(result.failure)
        record(positions, undefined)
        yield* Effect.logWarning(`claiming from ${queue} failed; keeping what the other queues gave`, result.failure)
        continue
      }
      succeeded = true
      claimed.push(...result.success.jobs)
      record(positions, result.success.acked)
    }
    yield* Effect.forEach(
      groups,
      ([queue, positions]) =>
        ackQueue(
          queue,
          positions.map((i) => acks[i]!)
        ).pipe(
          Effect.match({
            onFailure: () => record(positions, undefined),
            onSuccess: (held) => record(positions, held)
          })
        ),
      { concurrency: "unbounded", discard: true }
    )
    return { acked, jobs: claimed }
  })

  const claim: QueueStore.QueueStore["Service"]["claim"] = (options) =>
    Effect.map(ackAndClaim([], options), (result) => result.jobs)

  const byQueue = (leases: ReadonlyArray<Lease>, lost: Array<string>) => {
    const groups = new Map<string, Array<Lease>>()
    for (const lease of leases) {
      const queue = queueOfToken(lease.token)
      if (queue === undefined) {
        lost.push(lease.id)
        continue
      }
      const group = groups.get(queue)
      if (group === undefined) groups.set(queue, [lease])
      else group.push(lease)
    }
    return groups
  }

  const extendLeases = Effect.fnUntraced(function* (leases: ReadonlyArray<Lease>, leaseMillis: number) {
    const lost: Array<string> = []
    const groups = byQueue(leases, lost)
    yield* Effect.forEach(
      groups,
      ([queue, group]) => {
        const keys = keysOf(queue)
        return Effect.forEach(
          chunks(group),
          (chunk) =>
            run(
              "extendLeases",
              lua.extendLeases,
              [keys.leases, keys.token],
              [boundedDelay(leaseMillis), ...chunk.flatMap((lease) => [lease.id, lease.token])]
            ).pipe(
              Effect.tap((reply) =>
                Effect.sync(() => {
                  lost.push(...asStrings(reply))
                })
              )
            ),
          { discard: true }
        )
      },
      { concurrency: "unbounded", discard: true }
    )
    return lost
  })

  // Concurrent acks and retries are coalesced by hand (cheaper than `Effect.request`): one
  // script call per queue per tick.
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
  /** One `ack-9` call on one queue; per lease, whether it was held. */
  const ackQueue = (queue: string, leases: ReadonlyArray<Lease>) => {
    const keys = keysOf(queue)
    const args: Array<string> = [...retentionArgs]
    for (const lease of leases) args.push(lease.id, lease.token)
    return run(
      "ack",
      lua.ack,
      [
        keys.leases,
        keys.token,
        keys.meta,
        keys.payload,
        keys.errors,
        keys.stats,
        keys.completed,
        keys.replayA,
        keys.replayB
      ],
      args
    ).pipe(
      Effect.flatMap((reply) => {
        const results = asArray(reply)
        const { acked, deleted } = ackOutcome(leases, (i) => results[i] === 1, results.slice(leases.length))
        return Effect.as(forget(queue, deleted), acked)
      })
    )
  }
  const ackRequest = TickBatch.make(runFork, (queue, leases: ReadonlyArray<Lease>) =>
    Effect.map(ackQueue(queue, leases), (held) => held.map((h) => Exit.succeed(h)))
  )

  const errorText = (error: JobRecord.AttemptError | undefined) =>
    error === undefined ? "" : JSON.stringify(JobRecord.boundAttemptError(error))

  interface RetryInput {
    readonly lease: Lease
    readonly delayMillis: number
    readonly countAttempt: boolean
    readonly error: JobRecord.AttemptError | undefined
  }
  /** One `retry-8` call on one queue; per job, whether its lease was held. */
  const retryQueue = (queue: string, inputs: ReadonlyArray<RetryInput>) => {
    const k = keysOf(queue)
    const args: Array<string | number> = [k.wake, JobRecord.maxErrorsKept, JobRecord.maxErrorHistoryBytes]
    for (const { countAttempt, delayMillis, error, lease } of inputs) {
      args.push(lease.id, lease.token, boundedDelay(delayMillis), countAttempt ? "1" : "0", errorText(error))
    }
    return run(
      "retry",
      lua.retry,
      [k.leases, k.token, k.meta, k.errors, k.retry, k.stats, k.replayA, k.replayB],
      args
    ).pipe(
      // A job whose record is broken fails alone; the others of the call stand.
      Effect.map((reply) =>
        asArray(reply).map((result) =>
          typeof result === "number" && result < 0
            ? Exit.fail(new QueueStore.QueueStoreError({ message: `retry: ${scriptError(result)}`, retryable: false }))
            : Exit.succeed(result === 1)
        )
      )
    )
  }
  const retryRequest = TickBatch.make(runFork, retryQueue)

  /** Settles through a coalesced call on the lease's queue; a token this store did not issue is not held. */
  const settleCoalesced = <In>(
    request: (queue: string, input: In) => Effect.Effect<boolean, QueueStoreError>,
    lease: Lease,
    input: In
  ): Effect.Effect<boolean, QueueStoreError> => {
    const queue = queueOfToken(lease.token)
    return queue === undefined ? Effect.succeed(false) : settling(request(queue, input))
  }

  const ackOne = (lease: Lease) => settleCoalesced(ackRequest, lease, lease)

  const ack = (leases: ReadonlyArray<Lease>) =>
    leases.length === 1
      ? Effect.map(ackOne(leases[0]!), (held) => (held ? 1 : 0))
      : Effect.map(Effect.forEach(leases, ackOne, { concurrency: "unbounded" }), (held) => held.filter(Boolean).length)

  /**
   * Runs a settlement script on the lease's queue; a token this store did not issue is not held.
   * `deleted` says which job ids the reply deleted, to free them in the id index.
   */
  const settle = (
    lease: Lease,
    f: (keys: RedisKeys.QueueKeys) => Effect.Effect<unknown, QueueStoreError>,
    deleted?: (reply: unknown) => ReadonlyArray<string>
  ) => {
    const queue = queueOfToken(lease.token)
    if (queue === undefined) return Effect.succeed(false)
    return settling(f(keysOf(queue))).pipe(
      Effect.tap((reply) => (deleted === undefined ? Effect.void : forget(queue, deleted(reply)))),
      Effect.map((reply) => reply === 1 || (Array.isArray(reply) && reply[0] === 1))
    )
  }

  const perQueueSum = (operation: string, script: LuaScript, keys: (k: RedisKeys.QueueKeys) => Array<string>) =>
    Effect.map(
      eachQueue((queue) => {
        const k = keysOf(queue)
        return run(operation, script, keys(k), [k.wake, promoteBatch])
      }),
      (counts) => counts.reduce((sum: number, n) => sum + Number(n), 0)
    )

  /** A signal the next wake-up of these queues completes, and how to stop listening. */
  const wakeSignal = (queues: ReadonlyArray<string>) => {
    const signal = Deferred.makeUnsafe<void>()
    const unregister = wakeups.register(queues, () => Deferred.doneUnsafe(signal, Effect.void))
    return { signal, unregister }
  }
  /** Whether the signal came before `millis` passed. */
  const wokenWithin = (signal: Deferred.Deferred<void>, millis: number) =>
    Effect.raceFirst(Effect.as(Deferred.await(signal), true), Effect.as(Effect.sleep(Duration.millis(millis)), false))

  /** Looks at the queues once; with nothing ready, waits for `signal` until the deadline or next due time. */
  const probeThenWait = Effect.fnUntraced(function* (
    valid: ReadonlyArray<string>,
    deadline: number,
    signal: Deferred.Deferred<void>
  ) {
    const probes = yield* Effect.forEach(
      valid,
      (queue) => {
        const k = keysOf(queue)
        return run("awaitWork", lua.awaitWork, [k.ready, k.scheduled, k.retry, k.paused], [])
      },
      { concurrency: "unbounded" }
    )
    let wait = deadline - (yield* Clock.currentTimeMillis)
    for (const probe of probes) {
      const [now, ready, nextDue] = asArray(probe).map(Number) as [number, number, number]
      if (ready > 0) return false
      if (nextDue >= 0) wait = Math.min(wait, nextDue - now)
    }
    if (wait <= 0) return false
    return yield* wokenWithin(signal, wait)
  })

  const awaitWork = Effect.fnUntraced(function* (queues: ReadonlyArray<string>, maxWaitMillis: number) {
    const valid = queues.filter((queue) => queuePattern.test(queue))
    yield* Effect.forEach(valid, (queue) => wakeups.listen(queue, keysOf(queue).wake), {
      concurrency: "unbounded",
      discard: true
    })
    // Right after claims that found every queue empty: sleep until a wake-up or the next due
    // time they reported, with no call to Redis. The knowledge is used once: the next call
    // without a claim in between looks for itself. (Wall-clock times: due times are Redis's
    // own clock, which no TestClock moves.)
    const known = valid.map((queue) => drained.get(queue))
    for (const queue of valid) drained.delete(queue)
    if (valid.length > 0 && known.every((info) => info !== undefined)) {
      let wakeAt = Date.now() + maxWaitMillis
      for (let i = 0; i < valid.length; i++) {
        const info = known[i]!
        if (wakeups.changedSince(valid[i]!, info.mark)) return
        if (info.wakeAt !== undefined) wakeAt = Math.min(wakeAt, info.wakeAt)
      }
      const wait = wakeAt - Date.now()
      if (wait <= 0) return
      const { signal, unregister } = wakeSignal(valid)
      return yield* Effect.asVoid(wokenWithin(signal, wait)).pipe(Effect.ensuring(Effect.sync(unregister)))
    }
    // A wake-up makes the waiter look again rather than return: a message may be stale (on
    // Redis Cluster, PUBLISH reaches other nodes over the cluster bus, so a wake-up sent just
    // before this call can arrive during it), or the work may already be claimed.
    const deadline = (yield* Clock.currentTimeMillis) + maxWaitMillis
    for (;;) {
      const { signal, unregister } = wakeSignal(valid)
      const woken = yield* probeThenWait(valid, deadline, signal).pipe(Effect.ensuring(Effect.sync(unregister)))
      if (!woken) return
    }
  })

  return QueueStore.QueueStore.of({
    enqueue: Enqueue.make(ctx, runFork, retryingWith(enqueueRetrying), reservationGraceMillis),
    claim,
    ackAndClaim,
    extendLeases,
    ack,
    retry: (lease, { countAttempt, delayMillis, error }) =>
      settleCoalesced(retryRequest, lease, { lease, delayMillis, countAttempt, error }),
    kill: (lease, { error, reason }) =>
      settle(
        lease,
        (k) =>
          run(
            "kill",
            lua.kill,
            [k.leases, k.token, k.meta, k.payload, k.errors, k.reason, k.dead, k.stats, k.replayA, k.replayB],
            [
              lease.id,
              lease.token,
              JobRecord.boundReason(reason),
              errorText(error),
              JobRecord.maxErrorsKept,
              maxDeadJobs,
              maxDeadAgeMillis,
              JobRecord.maxErrorHistoryBytes
            ]
          ),
        (reply) => asStrings(reply).slice(1)
      ),
    discard: (lease) =>
      settle(
        lease,
        (k) =>
          run(
            "discard",
            lua.discard,
            [k.leases, k.token, k.meta, k.payload, k.errors, k.replayA, k.replayB],
            [lease.id, lease.token]
          ),
        (reply) => (reply === 1 && indexedToken(lease.token) ? [lease.id] : [])
      ),
    requeue: (lease) =>
      settle(lease, (k) =>
        run(
          "requeue",
          lua.requeue,
          [k.leases, k.token, k.meta, k.ready, k.replayA, k.replayB],
          [k.wake, lease.id, lease.token]
        )
      ),
    // Each reap also sweeps a page of the id index; a failed sweep leaves it for the next reap.
    reap: Effect.tap(
      perQueueSum("reap", lua.reap, (k) => [k.leases, k.token, k.meta, k.ready, k.quarantine]),
      () => Effect.catchCause(sweepIds, (cause) => Effect.logDebug("sweeping the id index failed", cause))
    ),
    promote: perQueueSum("promote", lua.promote, (k) => [k.scheduled, k.retry, k.meta, k.ready, k.quarantine]),
    awaitWork,
    ...Admin.make(ctx)
  })
})

/** The Redis store as a layer over `IoRedis`. */
export const layer = (
  options?: Options
): Layer.Layer<QueueStore.QueueStore, RedisStartupError | RedisUnavailable, IoRedis> =>
  Layer.effect(QueueStore.QueueStore, make(options))
