/**
 * The in-memory `QueueStore`. Each operation runs synchronously inside one `Effect.sync`,
 * which makes it atomic on the single JavaScript thread, the same guarantee the Redis
 * store gets from one Lua script per transition.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AttemptError, ClaimedJob, JobState, Lease, StoredJob } from "../JobRecord.ts"
import { appendToHistory, boundReason, clampDelay } from "../JobRecord.ts"
import {
  type ClaimOptions,
  type CompletedLimits,
  type DeadSetLimits,
  type EnqueueResult,
  type JobPage,
  type JobSet,
  type NewJob,
  type QueueStats,
  type QueueStore,
  refusedBatch
} from "../QueueStore.ts"
import { Deque } from "./Deque.ts"
import * as Signal from "./signal.ts"

interface Entry {
  id: string
  name: string
  queue: string
  payload: string
  enqueuedAt: number
  runAt: number
  attempt: number
  errors: Array<AttemptError>
  state: JobState
  token: string | undefined
  leaseDeadline: number
  deadReason: string | undefined
  diedAt: number | undefined
  /** When it completed, while kept in the completed set. */
  completedAt: number | undefined
  trace: string | undefined
}

/** Entries ordered by a time, ties broken by insertion order. */
class TimeOrdered {
  private readonly entries: Array<Entry> = []
  private readonly key: (entry: Entry) => number
  constructor(key: (entry: Entry) => number) {
    this.key = key
  }

  get length(): number {
    return this.entries.length
  }
  insert(entry: Entry): void {
    const t = this.key(entry)
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.key(this.entries[mid]!) <= t) lo = mid + 1
      else hi = mid
    }
    this.entries.splice(lo, 0, entry)
  }
  remove(entry: Entry): boolean {
    const index = this.entries.indexOf(entry)
    if (index < 0) return false
    this.entries.splice(index, 1)
    return true
  }
  /** Removes and returns the entries whose time is at or before `t`. */
  takeUntil(t: number): Array<Entry> {
    let n = 0
    while (n < this.entries.length && this.key(this.entries[n]!) <= t) n++
    return this.entries.splice(0, n)
  }
  /** The first time among entries matching the predicate. */
  firstTime(predicate: (entry: Entry) => boolean): number | undefined {
    for (const entry of this.entries) if (predicate(entry)) return this.key(entry)
    return undefined
  }
  slice(offset: number, limit: number): Array<Entry> {
    return this.entries.slice(offset, offset + limit)
  }
  sliceFromEnd(offset: number, limit: number): Array<Entry> {
    const end = this.entries.length - offset
    return this.entries.slice(Math.max(0, end - limit), Math.max(0, end)).reverse()
  }
  first(): Entry | undefined {
    return this.entries[0]
  }
  shift(): Entry | undefined {
    return this.entries.shift()
  }
}

const toStored = (entry: Entry): StoredJob => ({
  id: entry.id,
  name: entry.name,
  queue: entry.queue,
  payload: entry.payload,
  enqueuedAt: entry.enqueuedAt,
  runAt: entry.runAt,
  attempt: entry.attempt,
  errors: entry.errors.slice(),
  deadReason: entry.deadReason,
  diedAt: entry.diedAt,
  trace: entry.trace,
  state: entry.state
})

/** How long, and for how many leases at most, a settlement's outcome is kept for a replay. */
const replayWindowMillis = 120_000
const replayCap = 100_000

/** What a settlement did to a lease: c completed, t retry, x killed, d discarded, r requeued. */
type Settled = "c" | "t" | "x" | "d" | "r"

const pushError = (entry: Entry, error: AttemptError | undefined) => {
  if (error !== undefined) entry.errors = appendToHistory(entry.errors, error)
}

export const makeMemoryQueueStore = (
  deadLimits: DeadSetLimits,
  completedLimits?: CompletedLimits | undefined
): Effect.Effect<QueueStore["Service"]> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const maxDeadAge = Duration.toMillis(deadLimits.maxAge)

    const jobs = new Map<string, Entry>()
    const ready = new Map<string, Deque<Entry>>()
    const scheduled = new TimeOrdered((e) => e.runAt)
    const retries = new TimeOrdered((e) => e.runAt)
    // All dead jobs (for paging), and each queue's, which its limits apply to, as on Redis.
    const dead = new TimeOrdered((e) => e.diedAt ?? 0)
    const deadByQueue = new Map<string, TimeOrdered>()
    // Completed jobs kept under `completedLimits`, per queue, by completion time.
    const completedByQueue = new Map<string, TimeOrdered>()
    const perQueue = (sets: Map<string, TimeOrdered>, queue: string, key: (e: Entry) => number) => {
      let set = sets.get(queue)
      if (set === undefined) {
        set = new TimeOrdered(key)
        sets.set(queue, set)
      }
      return set
    }
    const deadOf = (queue: string) => perQueue(deadByQueue, queue, (e) => e.diedAt ?? 0)
    const completedOf = (queue: string) => perQueue(completedByQueue, queue, (e) => e.completedAt ?? 0)
    const leased = new Set<Entry>()
    const paused = new Set<string>()
    let processed = 0
    let failed = 0
    let claimSequence = 0
    const wake = Signal.make()
    const readyQueue = (queue: string) => {
      let deque = ready.get(queue)
      if (deque === undefined) {
        deque = new Deque()
        ready.set(queue, deque)
      }
      return deque
    }
    const makeReady = (entry: Entry, front: boolean, at: number) => {
      entry.state = "ready"
      entry.token = undefined
      if (!front) entry.runAt = at
      if (front) readyQueue(entry.queue).pushFront(entry)
      else readyQueue(entry.queue).pushBack(entry)
    }
    const promoteDue = (t: number) => {
      let moved = 0
      for (const set of [scheduled, retries]) {
        for (const entry of set.takeUntil(t)) {
          makeReady(entry, false, entry.runAt)
          moved++
        }
      }
      return moved
    }
    // A settlement applies only while the caller's token is the job's current lease.
    const held = (lease: Lease): Entry | undefined => {
      const entry = jobs.get(lease.id)
      return entry !== undefined && entry.state === "leased" && entry.token === lease.token ? entry : undefined
    }
    // Recently settled leases by token, oldest first: a settlement sent again for a lease it
    // already settled (a replay after a lost reply) answers as the first did, as on Redis.
    const settledLeases = new Map<string, { readonly outcome: Settled; readonly at: number }>()
    const settledBefore = (lease: Lease, outcome: Settled) => {
      const record = settledLeases.get(lease.token)
      return record !== undefined && record.outcome === outcome && now() - record.at <= replayWindowMillis
    }
    /** Ends the lease; a settlement (not the reaper) records its outcome under the token. */
    const release = (entry: Entry, outcome?: Settled) => {
      const t = now()
      if (entry.token !== undefined && outcome !== undefined) settledLeases.set(entry.token, { outcome, at: t })
      for (const [token, record] of settledLeases) {
        if (settledLeases.size <= replayCap && t - record.at <= replayWindowMillis) break
        settledLeases.delete(token)
      }
      leased.delete(entry)
      entry.token = undefined
    }
    // Each queue's dead set is trimmed to the limits when a job of that queue dies.
    const trimDead = (t: number, queue: string) => {
      const queueDead = deadOf(queue)
      let oldest = queueDead.first()
      while (oldest !== undefined && (queueDead.length > deadLimits.maxJobs || t - (oldest.diedAt ?? 0) > maxDeadAge)) {
        queueDead.shift()
        dead.remove(oldest)
        jobs.delete(oldest.id)
        oldest = queueDead.first()
      }
    }
    // Each queue's completed jobs are trimmed when a job of that queue completes.
    const trimCompleted = (t: number, limits: CompletedLimits, queue: string) => {
      const completed = completedOf(queue)
      let oldest = completed.first()
      while (
        oldest !== undefined &&
        (completed.length > limits.keepLast || t - (oldest.completedAt ?? 0) > limits.keepForMillis)
      ) {
        completed.shift()
        jobs.delete(oldest.id)
        oldest = completed.first()
      }
    }
    const setOf = (set: JobSet) => (set === "scheduled" ? scheduled : set === "retry" ? retries : dead)
    /** Takes an entry out of an admin set (and a dead one out of its queue's dead set). */
    const removeFrom = (set: JobSet, entry: Entry) => {
      setOf(set).remove(entry)
      if (set === "dead") deadOf(entry.queue).remove(entry)
    }
    const page = (entries: Array<Entry>, total: number): JobPage => ({ jobs: entries.map(toStored), total })

    const claimNow = ({ leaseMillis, limit, owner, queues }: ClaimOptions): Array<ClaimedJob> => {
      const t = now()
      promoteDue(t)
      const claimed: Array<ClaimedJob> = []
      for (const queue of queues) {
        if (paused.has(queue)) continue
        const deque = ready.get(queue)
        while (deque !== undefined && claimed.length < limit) {
          const entry = deque.popFront()
          if (entry === undefined) break
          entry.state = "leased"
          entry.attempt++
          // Store-wide sequence: a token is never reused, even for a re-enqueued id.
          const fence = ++claimSequence
          entry.token = `${owner}:${fence}`
          entry.leaseDeadline = t + leaseMillis
          leased.add(entry)
          claimed.push({
            ...toStored(entry),
            token: entry.token,
            fence,
            leaseDeadline: entry.leaseDeadline,
            claimedAt: t
          })
        }
        if (claimed.length >= limit) break
      }
      return claimed
    }

    /** Completes the jobs whose lease is held; per lease, whether it was. */
    const ackNow = (leases: ReadonlyArray<Lease>): Array<boolean> => {
      const t = now()
      const touched = new Set<string>()
      const acked = leases.map((lease) => {
        const entry = held(lease)
        if (entry === undefined) return settledBefore(lease, "c")
        release(entry, "c")
        if (completedLimits === undefined) jobs.delete(entry.id)
        else {
          entry.state = "completed"
          entry.completedAt = t
          completedOf(entry.queue).insert(entry)
          touched.add(entry.queue)
        }
        processed++
        return true
      })
      if (completedLimits !== undefined) for (const queue of touched) trimCompleted(t, completedLimits, queue)
      return acked
    }

    const service: QueueStore["Service"] = {
      enqueue: (newJobs: ReadonlyArray<NewJob>) => {
        const refused = refusedBatch(newJobs)
        if (refused !== undefined) return Effect.fail(refused)
        return Effect.sync(() => {
          const t = now()
          const results: Array<EnqueueResult> = []
          for (const job of newJobs) {
            if (jobs.has(job.id)) {
              results.push({ id: job.id, outcome: "duplicate" })
              continue
            }
            const runAt = job.runAtMillis ?? t + (job.delayMillis ?? 0)
            const entry: Entry = {
              id: job.id,
              name: job.name,
              queue: job.queue,
              payload: job.payload,
              enqueuedAt: t,
              runAt: Math.max(runAt, t),
              attempt: 0,
              errors: [],
              state: "scheduled",
              token: undefined,
              leaseDeadline: 0,
              deadReason: undefined,
              diedAt: undefined,
              completedAt: undefined,
              trace: job.trace
            }
            jobs.set(job.id, entry)
            if (runAt > t) {
              scheduled.insert(entry)
              results.push({ id: job.id, outcome: "scheduled" })
            } else {
              makeReady(entry, false, t)
              results.push({ id: job.id, outcome: "enqueued" })
            }
          }
          // A scheduled job may now be the earliest due time a sleeping worker must wake for.
          wake.fire()
          return results
        })
      },

      claim: (options) => Effect.sync(() => claimNow(options)),

      ackAndClaim: (acks, options) =>
        Effect.sync(() => {
          const acked = ackNow(acks)
          return { acked, jobs: claimNow(options) }
        }),

      extendLeases: (leases, leaseMillis) =>
        Effect.sync(() => {
          const deadline = now() + leaseMillis
          const lost: Array<string> = []
          for (const lease of leases) {
            const entry = held(lease)
            if (entry === undefined) lost.push(lease.id)
            else entry.leaseDeadline = deadline
          }
          return lost
        }),

      ack: (leases) => Effect.sync(() => ackNow(leases).filter(Boolean).length),

      retry: (lease, { countAttempt, delayMillis, error }) =>
        Effect.sync(() => {
          const entry = held(lease)
          if (entry === undefined) return settledBefore(lease, "t")
          release(entry, "t")
          if (countAttempt) failed++
          else entry.attempt--
          pushError(entry, error)
          entry.state = "retry"
          entry.runAt = now() + clampDelay(delayMillis)
          retries.insert(entry)
          wake.fire()
          return true
        }),

      kill: (lease, { error, reason }) =>
        Effect.sync(() => {
          const entry = held(lease)
          if (entry === undefined) return settledBefore(lease, "x")
          const t = now()
          release(entry, "x")
          failed++
          pushError(entry, error)
          entry.state = "dead"
          entry.deadReason = boundReason(reason)
          entry.diedAt = t
          dead.insert(entry)
          deadOf(entry.queue).insert(entry)
          trimDead(t, entry.queue)
          return true
        }),

      discard: (lease) =>
        Effect.sync(() => {
          const entry = held(lease)
          if (entry === undefined) return settledBefore(lease, "d")
          release(entry, "d")
          jobs.delete(entry.id)
          return true
        }),

      requeue: (lease) =>
        Effect.sync(() => {
          const entry = held(lease)
          if (entry === undefined) return settledBefore(lease, "r")
          release(entry, "r")
          entry.attempt--
          makeReady(entry, true, 0)
          wake.fire()
          return true
        }),

      reap: Effect.sync(() => {
        const t = now()
        let reaped = 0
        const expired = [...leased].filter((entry) => entry.leaseDeadline <= t)
        // Pushed to the head last-first, so they keep their claim order.
        for (const entry of expired.reverse()) {
          release(entry)
          makeReady(entry, true, 0)
          reaped++
        }
        if (reaped > 0) wake.fire()
        return reaped
      }),

      promote: Effect.sync(() => {
        const moved = promoteDue(now())
        if (moved > 0) wake.fire()
        return moved
      }),

      awaitWork: (queues, maxWaitMillis) =>
        Effect.suspend(() => {
          const t = now()
          const wanted = new Set(queues)
          for (const queue of queues) {
            if (!paused.has(queue) && (ready.get(queue)?.length ?? 0) > 0) return Effect.void
          }
          let wait = maxWaitMillis
          for (const set of [scheduled, retries]) {
            const due = set.firstTime((e) => wanted.has(e.queue) && !paused.has(e.queue))
            if (due !== undefined) wait = Math.min(wait, due - t)
          }
          if (wait <= 0) return Effect.void
          return Effect.raceFirst(wake.next(), Effect.sleep(Duration.millis(wait)))
        }),

      pause: (queue) => Effect.sync(() => void paused.add(queue)),

      resume: (queue) =>
        Effect.sync(() => {
          if (paused.delete(queue)) wake.fire()
        }),

      stats: Effect.sync(() => {
        const t = now()
        const names = new Set<string>([...ready.keys(), ...paused])
        const queues: Array<QueueStats> = [...names].sort().map((name) => {
          const deque = ready.get(name)
          const oldest = deque?.peekFront()
          return {
            name,
            size: deque?.length ?? 0,
            paused: paused.has(name),
            latencyMillis: oldest === undefined ? 0 : Math.max(0, t - oldest.runAt)
          }
        })
        return {
          processed,
          failed,
          queues,
          scheduled: scheduled.length,
          retry: retries.length,
          dead: dead.length,
          leased: leased.size
        }
      }),

      get: (id) =>
        Effect.sync(() => {
          const entry = jobs.get(id)
          return entry === undefined ? Option.none() : Option.some(toStored(entry))
        }),

      listQueue: (queue, { limit, offset }) =>
        Effect.sync(() => {
          const deque = ready.get(queue)
          return deque === undefined ? page([], 0) : page(deque.slice(offset, limit), deque.length)
        }),

      list: (set, { limit, offset }) =>
        Effect.sync(() => {
          const ordered = setOf(set)
          const entries = set === "dead" ? ordered.sliceFromEnd(offset, limit) : ordered.slice(offset, limit)
          return page(entries, ordered.length)
        }),

      retryNow: (set, ids) =>
        Effect.sync(() => {
          const t = now()
          let moved = 0
          for (const id of ids) {
            const entry = jobs.get(id)
            if (entry === undefined || entry.state !== set) continue
            removeFrom(set, entry)
            if (set === "dead") {
              entry.attempt = 0
              entry.deadReason = undefined
              entry.diedAt = undefined
            }
            makeReady(entry, false, t)
            moved++
          }
          if (moved > 0) wake.fire()
          return moved
        }),

      // Every entry here is an object this store wrote itself: none is unreadable, so the
      // quarantine stays empty (the contract is the Redis store's, whose records are text).
      listQuarantine: () => Effect.succeed({ entries: [], total: 0 }),
      requeueQuarantined: () => Effect.succeed(0),
      removeQuarantined: () => Effect.succeed(0),

      remove: (set, ids) =>
        Effect.sync(() => {
          let removed = 0
          for (const id of ids) {
            const entry = jobs.get(id)
            if (entry === undefined || entry.state !== set) continue
            removeFrom(set, entry)
            jobs.delete(id)
            removed++
          }
          return removed
        })
    }
    return service
  })
