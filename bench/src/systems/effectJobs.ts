/**
 * The effect-jobs driver: the Redis backend with its defaults (leases, fencing, retries,
 * dead set all on), producers written as Effect programs the way an application would write
 * them, and a `JobWorker.layer` started on `go`. Effect is imported by module, as the library
 * does: `import { Effect } from "effect"` loads all of Effect into every child (a worker
 * process then starts about 8 MB larger; see the README's Performance section).
 */
import { Job, JobClient, JobRegistry, RetryPolicy, JobWorker } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import { nowMillis, type Payload, type ProducerWork, queueName } from "../protocol.ts"
import { dueTime, type Producer, type RunningWorker, type System, type WorkerOptions } from "./System.ts"

/** The failure of a `FailOnce` job's first attempt. */
class FirstAttemptFails extends Schema.TaggedError<FirstAttemptFails>()("FirstAttemptFails", {
  attempt: Schema.Number
}) {}

const payload = { t: Schema.Number, d: Schema.Number, f: Schema.Number }

/** A no-op job with the default retry policy (Sidekiq's 25 retries). */
const Noop = Job.make("Noop", { payload, queue: queueName })

/** Fails its first attempt; one retry 1 ms later. */
const FailOnce = Job.make("FailOnce", {
  payload,
  error: FirstAttemptFails,
  queue: queueName,
  retry: RetryPolicy.exponential({ maxRetries: 1, base: "1 millis", jitter: 0 })
})

const fresh = (f = 0): Payload => ({ t: nowMillis(), d: 0, f })

const work = (
  task: ProducerWork,
  replied: (issuedAt: number) => void
): Effect.Effect<number, unknown, JobClient.JobClient> => {
  switch (task.kind) {
    case "sequential":
      return Effect.gen(function* () {
        for (let i = 0; i < task.count; i++) yield* Noop.enqueue(fresh())
        return task.count
      })
    case "concurrent":
      return Effect.forEach(Array.from({ length: task.count }), () => Noop.enqueue(fresh()), {
        concurrency: task.inFlight,
        discard: true
      }).pipe(Effect.as(task.count))
    case "bulk":
      return Effect.gen(function* () {
        const job = task.job === "failOnce" ? FailOnce : Noop
        const f = task.job === "failOnce" ? 1 : 0
        for (let start = 0; start < task.count; start += task.chunk) {
          const size = Math.min(task.chunk, task.count - start)
          yield* job.enqueueMany(Array.from({ length: size }, () => fresh(f)))
        }
        return task.count
      })
    case "steady":
      // Single enqueues issued on a 1 ms tick at the target rate, each stamped as it is issued.
      return Effect.gen(function* () {
        const total = Math.round(task.rate * task.seconds)
        const fibers = yield* FiberSet.make<unknown, unknown>()
        let failures = 0
        const one = Effect.suspend(() => {
          const payload = fresh()
          return Effect.tap(Noop.enqueue(payload), () => Effect.sync(() => replied(payload.t)))
        }).pipe(Effect.catchCause(() => Effect.sync(() => failures++)))
        const start = nowMillis()
        let issued = 0
        while (issued < total) {
          const due = Math.min(total, Math.floor(((nowMillis() - start) * task.rate) / 1000) + 1)
          for (; issued < due; issued++) yield* FiberSet.run(fibers, one)
          yield* Effect.sleep("1 millis")
        }
        yield* FiberSet.awaitEmpty(fibers)
        if (failures > 0) return yield* Effect.die(new Error(`${failures} enqueue(s) failed`))
        return total
      }).pipe(Effect.scoped)
    case "scheduled": {
      const first = Math.ceil(nowMillis() + task.leadMillis)
      return Effect.forEach(
        Array.from({ length: task.count }, (_, i) => dueTime(first, i, task.count, task.spreadMillis)),
        (due) => Noop.enqueue({ t: nowMillis(), d: due, f: 0 }, { at: due }),
        { concurrency: task.inFlight, discard: true }
      ).pipe(Effect.as(task.count))
    }
  }
}

const producer = async (url: string): Promise<Producer> => {
  const runtime = ManagedRuntime.make(JobClient.layer().pipe(Layer.provideMerge(RedisBackend.layer({ url }))))
  await runtime.context()
  return {
    run: (task, replied) => runtime.runPromise(work(task, replied)),
    close: () => runtime.dispose()
  }
}

const worker = ({ concurrency, onJob, url }: WorkerOptions): Promise<RunningWorker> =>
  new Promise((resolve, reject) => {
    const go = Deferred.makeUnsafe<void>()
    const stop = Deferred.makeUnsafe<void>()
    const handlers = JobRegistry.add(
      Noop.handle((p, job) =>
        Effect.sync(() => {
          onJob(p, job.attempt)
        })
      ),
      FailOnce.handle((p, job) =>
        Effect.suspend(() =>
          onJob(p, job.attempt) ? Effect.fail(new FirstAttemptFails({ attempt: job.attempt })) : Effect.void
        )
      )
    )
    let ready = false
    const program = Effect.gen(function* () {
      const backend = yield* Layer.build(RedisBackend.layer({ url }))
      ready = true
      resolve({
        start: () => {
          Deferred.doneUnsafe(go, Effect.void)
        },
        close: () => {
          Deferred.doneUnsafe(stop, Effect.void)
          return done
        }
      })
      yield* Deferred.await(go)
      yield* Layer.build(JobWorker.layer({ queues: [queueName], concurrency }).pipe(Layer.provide(handlers))).pipe(
        Effect.provide(backend)
      )
      yield* Deferred.await(stop)
    }).pipe(Effect.scoped)
    const done: Promise<void> = Effect.runPromise(program)
    done.catch((error) => {
      if (!ready) reject(error)
    })
  })

export const system: System = { name: "effect-jobs", producer, worker }
