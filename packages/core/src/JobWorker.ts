/**
 * The worker: claims jobs from the store and runs them on supervised fibers.
 *
 * Two fetch loops ("lanes", one when `concurrency` is 1) each own half of the slots: a lane
 * claims as many jobs as it has free slots and forks a fiber per job, so one lane's jobs run
 * while the other's store call is in flight. When the queues run dry, one lane waits on
 * `QueueStore.awaitWork` (woken by new work or the next due time, never a busy poll) and the
 * other until work is plentiful again. A claim also acks the lane's jobs that succeeded since
 * its last one (`ackAndClaim`: one store call completes them and refills their slots). A job whose handler
 * has ended no longer counts against `concurrency` while it settles. Background fibers renew
 * the leases of running jobs (interrupting any whose lease was lost), re-queue expired leases
 * of dead processes, and refresh this process's registry entry.
 *
 * Shutdown follows Sidekiq's manager: stop claiming, wait up to `shutdownTimeout` for
 * running jobs, then interrupt the rest, whose settlement puts them back at the head of
 * their queue without counting the attempt. Closing the layer's scope (SIGINT/SIGTERM under
 * `NodeRuntime.runMain`) runs it.
 */
import * as Os from "node:os"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as IdCounts from "./internal/idCounts.ts"
import * as Signal from "./internal/signal.ts"
import * as JobEvents from "./JobEvents.ts"
import type { ClaimedJob, Lease } from "./JobRecord.ts"
import type { JobRegistry } from "./JobRegistry.ts"
import type { JobMiddleware } from "./Middleware.ts"
import * as Processor from "./Processor.ts"
import { type ProcessInfo, ProcessRegistry, type RunningJob } from "./ProcessRegistry.ts"
import { fromContext, middlewareFromContext } from "./internal/registry.ts"
import * as QueueSelection from "./QueueSelection.ts"
import { QueueStore } from "./QueueStore.ts"

/** Worker settings; every one has a default. */
export interface WorkerOptions {
  /** Queues to fetch from (default `["default"]`): names (strict order) or weights. */
  readonly queues?: QueueSelection.QueueSpec | undefined
  /** Always try queues in the given order, ignoring weights. */
  readonly strict?: boolean | undefined
  /** Jobs run at once (default 25). */
  readonly concurrency?: number | undefined
  /** How long shutdown waits for running jobs before interrupting them (default 25 s). */
  readonly shutdownTimeout?: Duration.Input | undefined
  /** Lease length; renewed every third of it while the job runs (default 30 s). */
  readonly leaseDuration?: Duration.Input | undefined
  /** How often expired leases of dead processes are re-queued (default 5 s). */
  readonly reapInterval?: Duration.Input | undefined
  /** How often this process refreshes its registry entry (default 5 s). */
  readonly heartbeatInterval?: Duration.Input | undefined
  /** Longest idle wait before checking the store again, as a safety net (default 5 s). */
  readonly pollInterval?: Duration.Input | undefined
  /**
   * While the worker waits for work, how long a succeeded job's ack may wait to ride on the
   * claim the next job's arrival brings (default 2 ms; 0: it goes at once). At a steady rate
   * one store call then acks a job and claims the next, where two went before; past this the
   * ack goes alone.
   */
  readonly ackLinger?: Duration.Input | undefined
}

/** A worker option is unusable; the message names it and says what is expected. */
export class WorkerConfigError extends Schema.TaggedError<WorkerConfigError>()("WorkerConfigError", {
  option: Schema.String,
  message: Schema.String
}) {}

/** A running worker. */
export class JobWorker extends Context.Service<
  JobWorker,
  {
    /** This process's registry id. */
    readonly id: string
    /** Stop claiming new jobs; running jobs finish (Sidekiq's "quiet"). */
    readonly quiet: Effect.Effect<void>
    /** The jobs running now. */
    readonly running: Effect.Effect<ReadonlyArray<RunningJob>>
    /** The registry entry as it would be written now. */
    readonly info: Effect.Effect<ProcessInfo>
  }
>()("@effect-jobs/core/JobWorker") {}

interface Settings {
  readonly selection: QueueSelection.QueueSelection
  readonly concurrency: number
  readonly shutdownMillis: number
  readonly leaseMillis: number
  readonly reapMillis: number
  readonly heartbeatMillis: number
  readonly pollMillis: number
  readonly ackLingerMillis: number
  readonly middleware: ReadonlyArray<JobMiddleware>
}

const durationOption = (option: string, input: Duration.Input | undefined, fallback: number) => {
  if (input === undefined) return Effect.succeed(fallback)
  const duration = Duration.fromInput(input)
  if (duration._tag === "None" || !Duration.isFinite(duration.value) || Duration.toMillis(duration.value) <= 0) {
    return Effect.fail(
      new WorkerConfigError({
        option,
        message: `${option}: expected a positive duration such as "10 seconds", got ${String(input)}`
      })
    )
  }
  return Effect.succeed(Duration.toMillis(duration.value))
}

/** Default `ackLinger`: at 1,000 jobs/s the next job arrives within 2 ms six times in seven. */
const defaultAckLingerMillis = 2

const lingerOption = (input: Duration.Input | undefined) => {
  if (input === undefined) return Effect.succeed(defaultAckLingerMillis)
  const duration = Duration.fromInput(input)
  if (duration._tag === "None" || !Duration.isFinite(duration.value) || Duration.toMillis(duration.value) < 0) {
    return Effect.fail(
      new WorkerConfigError({
        option: "ackLinger",
        message: `ackLinger: expected a duration of 0 or more such as "2 millis", got ${String(input)}`
      })
    )
  }
  return Effect.succeed(Duration.toMillis(duration.value))
}

const settings = (options: WorkerOptions): Effect.Effect<Settings, WorkerConfigError> =>
  Effect.gen(function* () {
    const selection = QueueSelection.parse(options.queues ?? ["default"], options.strict)
    if (typeof selection === "string") return yield* new WorkerConfigError({ option: "queues", message: selection })
    const concurrency = options.concurrency ?? 25
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return yield* new WorkerConfigError({
        option: "concurrency",
        message: `concurrency: expected a whole number >= 1, got ${concurrency}`
      })
    }
    return {
      selection,
      concurrency,
      shutdownMillis: yield* durationOption("shutdownTimeout", options.shutdownTimeout, 25_000),
      leaseMillis: yield* durationOption("leaseDuration", options.leaseDuration, 30_000),
      reapMillis: yield* durationOption("reapInterval", options.reapInterval, 5_000),
      heartbeatMillis: yield* durationOption("heartbeatInterval", options.heartbeatInterval, 5_000),
      pollMillis: yield* durationOption("pollInterval", options.pollInterval, 5_000),
      ackLingerMillis: yield* lingerOption(options.ackLinger),
      // Provided as layers (`Middleware.layer`), beside the handlers.
      middleware: middlewareFromContext(yield* Effect.context<never>())
    }
  })

/** Runs a background loop every `millis`, logging and surviving its failures. */
/** Runs `body` every `millis`, first after one interval (`now`: at once, then every interval). */
const every = <E>(millis: number, name: string, body: Effect.Effect<void, E>, now = false) => {
  const guarded = Effect.catchCause(body, (cause) =>
    Effect.logWarning(`${name} failed; trying again in ${millis} ms`, cause)
  )
  const loop = Effect.forever(Effect.andThen(Effect.sleep(Duration.millis(millis)), guarded))
  return now ? Effect.andThen(guarded, loop) : loop
}

interface Slot {
  readonly job: ClaimedJob
  readonly startedAt: number
  /** Its run, or once the run has handed its ack to the lane and that ack went alone, the ack's. */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** Set before the worker interrupts the job, so its settlement requeues it uncounted. */
  stopping: boolean
  /** The handler has ended and the settlement is pending or in flight: the slot no longer counts as busy. */
  settling: boolean
  /** Its place in `slots` while it holds one; -1 once freed. */
  index: number
  /** The fetch loop that claimed it, whose share of `concurrency` it counts against. */
  readonly lane: Lane
}

/**
 * One fetch loop and its share of `concurrency`. A worker that may hold two jobs or more runs
 * two lanes: while one lane's store call is in flight, the other's jobs run, where a single
 * loop left the worker idle for every round trip.
 */
interface Lane {
  readonly capacity: number
  /** Slots held, settling ones included. */
  held: number
  /** Held slots whose handler has ended and whose settlement has not landed yet. */
  settling: number
  /** Fires when one of its slots frees or starts settling, or an ack is waiting: the loop looks again. */
  readonly wakeup: Signal.Signal
  /** Finished jobs' acks, waiting for this loop's next `ackAndClaim`. */
  pendingAcks: Array<PendingAck>
  /** Waiting for work: acks linger for the next claim, then go on their own. */
  idle: boolean
  /** Whether a fiber waits out `ackLinger` to send the lingering acks alone. */
  lingering: boolean
  /** Bumped when the lane stops waiting: a linger fiber of an earlier wait then leaves the acks to the claim. */
  waits: number
}

/**
 * A succeeded job's ack, waiting for the fetch loop's next `ackAndClaim`. Its run has ended;
 * its slot is held (settling) until the ack is answered.
 */
interface PendingAck {
  readonly lease: Lease
  readonly slot: Slot
  /** The run's completion: counts and reports the job once the store has answered. */
  readonly settled: (held: boolean) => void
}

/** How long interrupted jobs get to run their finalizers and settle before shutdown moves on. */
const stopGrace = Duration.seconds(2)

/** Starts a worker in the current scope; closing the scope shuts it down gracefully. */
export const make: (
  options?: WorkerOptions
) => Effect.Effect<JobWorker["Service"], WorkerConfigError, QueueStore | JobRegistry | ProcessRegistry | Scope.Scope> =
  Effect.fnUntraced(function* (options: WorkerOptions = {}) {
    const config = yield* settings(options)
    const store = yield* QueueStore
    const registry = fromContext(yield* Effect.context<JobRegistry>())
    if (typeof registry === "string") return yield* new WorkerConfigError({ option: "handlers", message: registry })
    const processes = yield* ProcessRegistry
    const publish = yield* JobEvents.emitter
    const clock = yield* Clock.Clock
    const queueNames = config.selection.queues.map((q) => q.name)
    const hostname = Os.hostname()
    const id = `${hostname}:${process.pid}:${SecureRandom.uuidV4Unsafe().slice(0, 8)}`
    const startedAt = clock.currentTimeMillisUnsafe()

    // The running jobs, one slot per claim (a job re-claimed after its lease was lost gets a new
    // slot), in an array where each slot knows its index. Not Maps and a FiberSet with an entry
    // added and deleted per job: V8's scavenger kept the hash tables such churn leaves behind
    // alive together with the jobs they held (a 60k-job drain at concurrency 25 kept 3.2 MB per
    // scavenge that way, 0.7 MB without, and the worker's RSS peaked at 252 MB against 178).
    const slots: Array<Slot> = []
    // Which job ids the slots may hold: more than one slot holds an id only for a job re-claimed
    // while an earlier run of it is still stopping or settling.
    const heldIds = IdCounts.make(Math.max(1024, config.concurrency * 16))
    const runFork = Effect.runForkWith(yield* Effect.context<never>())
    let quiet = false
    const quietSignal = Deferred.makeUnsafe<void>()
    const isFreed = (slot: Slot) => slot.index < 0
    const slotFreed = Signal.make()
    const wake = (lane: Lane) => lane.wakeup.fire()
    const busy = (lane: Lane) => lane.held - lane.settling

    const markSettling = (slot: Slot) => {
      if (slot.settling || isFreed(slot)) return
      slot.settling = true
      slot.lane.settling++
      wake(slot.lane)
    }
    const freeSlot = (slot: Slot) => {
      heldIds.remove(slot.job.id)
      const last = slots.pop()!
      if (last !== slot) {
        slots[slot.index] = last
        last.index = slot.index
      }
      slot.index = -1
      slotFreed.fire()
      slot.lane.held--
      // A settling slot stopped counting as busy when it began settling (and woke the loop then).
      if (slot.settling) slot.lane.settling--
      else wake(slot.lane)
    }

    // Once a slot's last fiber has ended: the slot frees, and a settlement that outlasted its
    // retries is reported (an interruption here only means the worker stopped a job that had
    // already settled).
    const slotDone = (slot: Slot) => (exit: Exit.Exit<unknown, unknown>) => {
      freeSlot(slot)
      return Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
        ? Effect.logError(
            `${slot.job.name} ${slot.job.id} could not be settled; its lease will expire and it will run again`,
            exit.cause
          )
        : Effect.void
    }

    // Acks ride on the lane's next claim (one store call completes the finished jobs and refills
    // their slots); the job's run ends when it hands its ack over, and the lane completes it.
    // While the lane waits for work, acks linger up to `ackLinger` for the claim the next job's
    // arrival brings, then go on their own; once the worker is quiet, the run acks on its own.
    const ackLater = (lane: Lane, slot: Slot) => (lease: Lease, settled: (held: boolean) => void) => {
      if (quiet || (lane.idle && config.ackLingerMillis === 0)) return false
      lane.pendingAcks.push({ lease, slot, settled })
      if (lane.idle) lingerAcks(lane)
      else wake(lane)
      return true
    }
    const acked = (entry: PendingAck, held: boolean) => {
      entry.settled(held)
      freeSlot(entry.slot)
    }
    const ackAlone = (lease: Lease) => Effect.map(store.ack([lease]), (held) => held > 0)
    // An ack the lane could not send with a claim goes alone, with the settlement's retries, on
    // a fiber of the slot's own: shutdown waits for it as it would for the run. Uninterruptible,
    // as a run's settlement is: stopping the slot must not drop a succeeded job's ack.
    const ackEachAlone = (acks: ReadonlyArray<PendingAck>) => {
      for (const entry of acks) {
        entry.slot.fiber = runFork(
          Effect.onExit(
            Effect.uninterruptible(
              Effect.flatMap(Processor.settle(ackAlone(entry.lease)), (held) =>
                held ? Effect.sync(() => entry.settled(true)) : refusedAck(entry)
              )
            ),
            slotDone(entry.slot)
          )
        )
      }
    }
    const refusedAck = (entry: PendingAck) =>
      Effect.andThen(
        Processor.logRefused(entry.slot.job, "ack"),
        Effect.sync(() => entry.settled(false))
      )
    const takePendingAcks = (lane: Lane) => {
      const taken = lane.pendingAcks
      lane.pendingAcks = []
      return taken
    }
    // The linger fiber is not interrupted when the lane stops waiting (at a steady rate that is
    // almost every time, and an interruption costs more than the sleep): it finds `waits` moved on.
    const lingerAcks = (lane: Lane) => {
      if (lane.lingering || lane.pendingAcks.length === 0) return
      lane.lingering = true
      const wait = lane.waits
      runFork(
        Effect.andThen(
          Effect.sleep(config.ackLingerMillis),
          Effect.sync(() => {
            if (lane.waits !== wait) return
            lane.lingering = false
            ackEachAlone(takePendingAcks(lane))
          })
        )
      )
    }
    // A lane that stops waiting takes its acks with its next claim.
    const stopLingering = (lane: Lane) => {
      lane.waits++
      lane.lingering = false
    }

    const makeLane = (capacity: number): Lane => {
      const lane: Lane = {
        capacity,
        held: 0,
        settling: 0,
        wakeup: Signal.make(),
        pendingAcks: [],
        idle: false,
        lingering: false,
        waits: 0
      }
      return lane
    }
    const run = Processor.make({ store, registry, middleware: config.middleware, publish })
    const laneCount = config.concurrency >= 2 ? 2 : 1
    const lanes = Array.from({ length: laneCount }, (_, i) =>
      makeLane(Math.floor(config.concurrency / laneCount) + (i < config.concurrency % laneCount ? 1 : 0))
    )

    const start = (job: ClaimedJob, lane: Lane, claimStartedNanos: bigint) => {
      // This worker may still run the job under a lease that lapsed (renewals failed, the
      // reaper re-queued it, this worker claimed it again): stop that run, then start this one.
      // The slots are searched only when the id may hold one already: comparing every new job's
      // id with every slot's cost a busy worker at concurrency 100 a tenth of its CPU.
      let previous: Array<Slot> | undefined
      if (heldIds.mayHold(job.id)) for (const other of slots) if (other.job.id === job.id) (previous ??= []).push(other)
      heldIds.add(job.id)
      const slot: Slot = {
        job,
        startedAt: clock.currentTimeMillisUnsafe(),
        fiber: undefined,
        stopping: false,
        settling: false,
        index: slots.length,
        lane
      }
      slots.push(slot)
      lane.held++
      const options: Processor.RunOptions = {
        interruptedByWorker: () => slot.stopping,
        // Settling, the job no longer holds its slot: the next claim need not wait for it.
        finished: () => markSettling(slot),
        ackLater: ackLater(lane, slot),
        claimStartedNanos
      }
      const runJob =
        previous === undefined
          ? run(job, options)
          : Effect.andThen(Effect.uninterruptible(Effect.forEach(previous, stop, { discard: true })), run(job, options))
      const done = slotDone(slot)
      // A run that handed its ack to the lane keeps its slot until the lane has the answer.
      slot.fiber = runFork(
        Effect.onExit(runJob, (exit) => (Exit.isSuccess(exit) && exit.value === "acking" ? Effect.void : done(exit)))
      )
    }

    // Until every slot is free. A slot frees as its fiber exits, or, when its run handed its
    // ack to the lane, as the lane settles that ack. Fibers that have already ended are not
    // waited for again, and a slot left without a live fiber is waited for through `slotFreed`,
    // so this cannot spin.
    const slotsEmptied: Effect.Effect<void> = Effect.suspend(() => {
      if (slots.length === 0) return Effect.void
      const live = slots.flatMap((slot) =>
        slot.fiber === undefined || slot.fiber.pollUnsafe() !== undefined ? [] : [slot.fiber]
      )
      return Effect.andThen(live.length === 0 ? slotFreed.next() : Fiber.awaitAll(live), slotsEmptied)
    })

    /** Interrupts a running job on the worker's behalf: it goes back to its queue uncounted. */
    const stop = (slot: Slot) =>
      Effect.suspend(() => {
        slot.stopping = true
        return slot.fiber === undefined ? Effect.void : Fiber.interrupt(slot.fiber)
      })

    // Settling jobs have finished running: they are not shown as busy.
    const runningJobs = (): ReadonlyArray<RunningJob> =>
      slots
        .filter((slot) => !slot.settling)
        .map(({ job, startedAt }) => ({
          id: job.id,
          name: job.name,
          queue: job.queue,
          attempt: job.attempt,
          startedAt
        }))

    const info = (): ProcessInfo => ({
      id,
      hostname,
      pid: process.pid,
      queues: config.selection.queues,
      strict: config.selection.strict,
      concurrency: config.concurrency,
      startedAt,
      quiet,
      running: runningJobs(),
      beatAt: clock.currentTimeMillisUnsafe()
    })

    const goQuiet = Effect.sync(() => {
      quiet = true
      Deferred.doneUnsafe(quietSignal, Effect.void)
    })

    /** The lane waits for `wait` (or quiet); meanwhile its acks linger, then go on their own. */
    const idleUntil = <E>(lane: Lane, wait: Effect.Effect<void, E>) =>
      Effect.suspend(() => {
        lane.idle = true
        // Acks that arrived since the last call must not wait for the end of the wait.
        if (config.ackLingerMillis === 0) ackEachAlone(takePendingAcks(lane))
        else lingerAcks(lane)
        return Effect.raceFirst(wait, Deferred.await(quietSignal))
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            lane.idle = false
            stopLingering(lane)
          })
        )
      )

    // With the queues dry, one lane at a time waits for work in the store (`awaitWork`); the
    // others wait until a lane's claim comes back full (more work than it had room for), so a
    // quiet worker makes the store calls of a single loop. Every poll interval they check the
    // watch is still kept, asking the store nothing; a lane that finds it given up looks itself.
    let watcher: Lane | undefined
    const plentiful = Signal.make()
    const whileWatched = (lane: Lane): Effect.Effect<void> =>
      Effect.raceFirst(Effect.as(plentiful.next(), true), Effect.as(Effect.sleep(config.pollMillis), false)).pipe(
        Effect.flatMap((full) =>
          full || watcher === undefined || watcher === lane || quiet ? Effect.void : whileWatched(lane)
        )
      )
    const waitForWork = (lane: Lane) => {
      if (watcher !== undefined && watcher !== lane) return idleUntil(lane, whileWatched(lane))
      // Taken inside the effect, so the `ensuring` that gives it back always runs.
      return Effect.suspend(() => {
        watcher = lane
        return idleUntil(lane, store.awaitWork(queueNames, config.pollMillis))
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (watcher === lane) watcher = undefined
          })
        )
      )
    }

    // Built once: a generator function made per call costs the young generation (see slots).
    const claimOnce = Effect.fnUntraced(function* (lane: Lane) {
      // Jobs settle in bursts (a store may answer a batch of acks at once): one scheduler turn
      // lets the rest of the burst finish, so a single call acks them all and fills their slots.
      if (busy(lane) > 0) yield* Effect.yieldNow
      const free = lane.capacity - busy(lane)
      if (free <= 0 && lane.pendingAcks.length === 0) {
        yield* Effect.raceFirst(lane.wakeup.next(), Deferred.await(quietSignal))
        return
      }
      const order = yield* config.selection.order
      const acks = takePendingAcks(lane)
      const claimStarted = clock.currentTimeNanosUnsafe()
      const { jobs } = yield* store
        .ackAndClaim(
          acks.map((entry) => entry.lease),
          { queues: order, limit: Math.max(0, free), owner: id, leaseMillis: config.leaseMillis }
        )
        .pipe(
          // Every taken ack is answered, whatever ends the call (a finalizer cannot be skipped by
          // an interruption). Acks the call did not settle (a store error, an interruption, a
          // queue that failed part way) are sent on their own, where the store's retries apply.
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              if (Exit.isFailure(exit)) return Effect.sync(() => ackEachAlone(acks))
              const alone: Array<PendingAck> = []
              let refused: Array<PendingAck> | undefined
              acks.forEach((entry, i) => {
                const held = exit.value.acked[i]
                if (held === undefined) alone.push(entry)
                else {
                  acked(entry, held)
                  if (!held) (refused ??= []).push(entry)
                }
              })
              ackEachAlone(alone)
              return refused === undefined
                ? Effect.void
                : Effect.forEach(refused, (entry) => Processor.logRefused(entry.slot.job, "ack"), { discard: true })
            })
          )
        )
      for (const job of jobs) start(job, lane, claimStarted)
      if (free > 0 && jobs.length === free) plentiful.fire()
      // Fewer jobs than free slots: the queues are empty for now, so wait for work (a store
      // may answer at once if something arrived meanwhile) instead of asking again. Acks of
      // jobs that finished meanwhile (a quick handler finishes before its lane gets here) wait
      // for the claim the next arrival brings, up to `ackLinger`: asking again at once to carry
      // them was a claim that found nothing, one per job at a steady rate.
      if (jobs.length < free) yield* waitForWork(lane)
    })
    const fetchOnce = (lane: Lane) =>
      claimOnce(lane).pipe(
        // Every failure is logged and retried (the loop's own interruption never reaches here):
        // a fetch loop that died would leave the worker up but idle forever.
        Effect.catchCause((cause) =>
          Effect.logWarning(`claiming from ${queueNames.join(", ")} failed; retrying in 1 s`, cause).pipe(
            Effect.andThen(idleUntil(lane, Effect.sleep("1 second")))
          )
        )
      )

    // Once the loop ends (quiet) no ack waits for it: those still pending go on their own.
    const fetchLoop = (lane: Lane) =>
      Effect.whileLoop({ while: () => !quiet, body: () => fetchOnce(lane), step: () => {} }).pipe(
        Effect.ensuring(Effect.sync(() => ackEachAlone(takePendingAcks(lane))))
      )

    // Which of an id's slots has its lease renewed: a run not being stopped first, then one
    // still running over one settling.
    const renewalRank = (slot: Slot) => (slot.stopping ? 2 : 0) + (slot.settling ? 1 : 0)

    // A job whose lease was lost may already run elsewhere: stop it; its settlement is fenced off.
    const renewLeases = Effect.gen(function* () {
      if (slots.length === 0) return
      // One lease per job id: a job claimed again while its earlier run is being stopped, or
      // still settling (a completed id enqueued anew), has two slots, and the new run's (the one
      // neither stopping nor settling) is the lease that must stay alive. The array's order
      // says nothing about which came first.
      const sent = new Map<string, Slot>()
      for (const slot of slots) {
        const other = sent.get(slot.job.id)
        if (other === undefined || renewalRank(slot) < renewalRank(other)) sent.set(slot.job.id, slot)
      }
      const lost = yield* store.extendLeases(
        [...sent.values()].map(({ job }) => ({ id: job.id, token: job.token })),
        config.leaseMillis
      )
      for (const jobId of lost) {
        const slot = sent.get(jobId)
        // Gone from `slots` or acking: it settled while the renewal was in flight, nothing was lost.
        if (slot === undefined || isFreed(slot) || slot.settling) continue
        yield* Effect.logWarning(
          `${slot.job.name} ${jobId} lost its lease; interrupting it (it may run again elsewhere)`
        )
        yield* Effect.forkDetach(stop(slot))
      }
    })

    const reap = Effect.flatMap(store.reap, (n) =>
      n > 0 ? Effect.logInfo(`re-queued ${n} job(s) whose lease expired`) : Effect.void
    )

    const heartbeat = Effect.suspend(() => processes.heartbeat(info(), config.heartbeatMillis * 3))

    yield* heartbeat.pipe(Effect.catchCause((cause) => Effect.logWarning("first heartbeat failed", cause)))
    yield* Effect.forkScoped(every(Math.max(10, Math.floor(config.leaseMillis / 3)), "lease renewal", renewLeases))
    // At start too: a worker started after a crash recovers the dead one's jobs at once, not
    // one interval later (in a kill storm, workers that die within an interval never reaped).
    yield* Effect.forkScoped(every(config.reapMillis, "lease reaper", reap, true))
    yield* Effect.forkScoped(every(config.heartbeatMillis, "heartbeat", heartbeat))
    const fetchers = yield* Effect.forEach(lanes, (lane) => Effect.forkScoped(fetchLoop(lane)))

    // Registered after the loops, so it runs before they are interrupted: leases keep being
    // renewed while running jobs drain. Every wait is bounded, so shutdown cannot hang on a
    // stuck handler or store; a job that does not stop keeps its lease until it expires and is
    // re-queued by any worker (it may run twice, it is never lost).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const deadline = clock.currentTimeMillisUnsafe() + config.shutdownMillis
        const remaining = () => Duration.millis(Math.max(0, deadline - clock.currentTimeMillisUnsafe()))
        yield* goQuiet
        if (Option.isNone(yield* Effect.timeoutOption(Fiber.awaitAll(fetchers), remaining()))) {
          yield* Effect.forkDetach(Fiber.interruptAll(fetchers))
        }
        if (slots.length > 0) {
          yield* Effect.logInfo(`shutting down: waiting up to ${config.shutdownMillis} ms for ${slots.length} job(s)`)
          const drained = yield* Effect.timeoutOption(slotsEmptied, remaining())
          if (Option.isNone(drained)) {
            yield* Effect.logWarning(
              `shutdown timeout reached: interrupting ${slots.length} job(s); they go back to their queue`
            )
            yield* Effect.forkDetach(Effect.forEach(slots.slice(), stop, { concurrency: "unbounded" }))
            const stopped = yield* Effect.timeoutOption(slotsEmptied, stopGrace)
            if (Option.isNone(stopped)) {
              yield* Effect.logWarning(
                `${slots.length} job(s) did not stop: ${slots
                  .map(({ job }) => `${job.name} ${job.id}`)
                  .join(", ")}; their leases expire and they are re-queued`
              )
            }
          }
        }
        yield* processes.remove(id).pipe(Effect.ignore)
        // Anything still running (a job that would not stop, or one claimed while the fetch loop
        // was being interrupted) is interrupted without waiting: shutdown must not hang on it.
        if (slots.length > 0) yield* Effect.forkDetach(Effect.forEach(slots.slice(), stop, { discard: true }))
      })
    )

    return JobWorker.of({
      id,
      quiet: goQuiet,
      running: Effect.sync(runningJobs),
      info: Effect.sync(info)
    })
  })

/** The worker as a layer: built, it runs; released, it shuts down gracefully. */
export const layer = (
  options?: WorkerOptions
): Layer.Layer<JobWorker, WorkerConfigError, QueueStore | JobRegistry | ProcessRegistry> =>
  Layer.effect(JobWorker, make(options))
