/**
 * Lost replies: every transition whose reply is lost after Redis applied it answers its
 * replay as the first run did. Registered on a standalone server and on the 3-master cluster.
 */
import { assert, describe, it } from "@effect/vitest"
import { Job, JobClient, QueueStore } from "@effect-jobs/core"
import { Context, type Duration, Effect, Layer, Option, References, Schema } from "effect"
import * as IoRedis from "../../src/IoRedis.ts"
import { scripts } from "../../src/internal/scripts.ts"
import * as RedisKeys from "../../src/RedisKeys.ts"
import * as RedisQueueStore from "../../src/RedisQueueStore.ts"
import { type LossPlan, loseNext, lossyIoRedis, makeLossPlan } from "./lostReplies.ts"
import { uniquePrefix } from "./redisServer.ts"

type Store = QueueStore.QueueStore["Service"]

const Note = Job.make("LostReplyNote", { payload: { n: Schema.Number } })

const newJob = (id: string, queue = "default"): QueueStore.NewJob => ({ id, name: "Test", queue, payload: "{}" })
const leaseOf = (job: { readonly id: string; readonly token: string }) => ({ id: job.id, token: job.token })
const claimOptions = (limit: number, queues: ReadonlyArray<string> = ["default"]) => ({
  queues,
  limit,
  owner: "lost-replies",
  leaseMillis: 30_000
})

interface Env {
  readonly store: Store
  readonly client: JobClient.JobClient["Service"]
  readonly io: IoRedis.IoRedis["Service"]
  readonly plan: LossPlan
  readonly prefix: string
}

/** Registers the lost-reply tests against the Redis at `url()`. */
export const lostReplySuite = (name: string, url: () => string) => {
  const withEnv = <A, E>(
    body: (env: Env) => Effect.Effect<A, E>,
    options: { readonly settleRetry?: Duration.Input; readonly chunkSize?: number } = {}
  ) =>
    Effect.gen(function* () {
      const plan = makeLossPlan()
      const prefix = uniquePrefix("lost")
      const io = lossyIoRedis({ url: url(), allowEviction: true }, plan)
      const store = RedisQueueStore.layer({ prefix, settleRetry: options.settleRetry ?? "3 seconds" })
      const context = yield* Layer.build(
        JobClient.layer({ chunkSize: options.chunkSize }).pipe(
          Layer.provideMerge(store),
          Layer.provideMerge(io),
          Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
        )
      )
      return yield* body({
        store: Context.get(context, QueueStore.QueueStore),
        client: Context.get(context, JobClient.JobClient),
        io: Context.get(context, IoRedis.IoRedis),
        plan,
        prefix
      })
    }).pipe(Effect.scoped)

  describe(`${name}: lost replies`, () => {
    it.live("a claim whose reply is lost answers the same leases, counting the attempt once (defect 1)", () =>
      withEnv(({ plan, store }) =>
        Effect.gen(function* () {
          yield* store.enqueue([newJob("a"), newJob("b")])
          loseNext(plan, "claim")
          const jobs = yield* store.claim(claimOptions(5))
          assert.strictEqual(plan.dropped.get("claim"), 1)
          assert.deepStrictEqual(
            jobs.map((job) => [job.id, job.attempt]),
            [
              ["a", 1],
              ["b", 1]
            ]
          )
          const a = Option.getOrThrow(yield* store.get("a"))
          assert.strictEqual(a.attempt, 1)
          assert.strictEqual((yield* store.stats).leased, 2)
          // The leases answered are the ones the store holds: they settle.
          assert.strictEqual(yield* store.ack(jobs.map(leaseOf)), 2)
          assert.strictEqual((yield* store.stats).leased, 0)
        })
      )
    )

    it.live("acks riding on a claim whose reply is lost are answered completed, not lost (defect 1)", () =>
      withEnv(({ plan, store }) =>
        Effect.gen(function* () {
          yield* store.enqueue([newJob("a"), newJob("b")])
          const [a] = yield* store.claim(claimOptions(1))
          loseNext(plan, "claim")
          const result = yield* store.ackAndClaim([leaseOf(a!)], claimOptions(1))
          assert.strictEqual(plan.dropped.get("claim"), 1)
          assert.deepStrictEqual(result.acked, [true])
          assert.deepStrictEqual(
            result.jobs.map((job) => [job.id, job.attempt]),
            [["b", 1]]
          )
          assert.strictEqual((yield* store.stats).processed, 1)
        })
      )
    )

    it.live("settlements whose reply is lost answer as their first run and change nothing more (defect 6)", () =>
      withEnv(({ plan, store }) =>
        Effect.gen(function* () {
          yield* store.enqueue(["a", "b", "c", "d", "e"].map((id) => newJob(id)))
          const [a, b, c, d, e] = yield* store.claim(claimOptions(5))
          loseNext(plan, "ack")
          assert.strictEqual(yield* store.ack([leaseOf(a!)]), 1)
          loseNext(plan, "retry")
          assert.isTrue(yield* store.retry(leaseOf(b!), { delayMillis: 60_000, countAttempt: true }))
          loseNext(plan, "kill")
          assert.isTrue(yield* store.kill(leaseOf(c!), { reason: "broken" }))
          loseNext(plan, "discard")
          assert.isTrue(yield* store.discard(leaseOf(d!)))
          loseNext(plan, "requeue")
          assert.isTrue(yield* store.requeue(leaseOf(e!)))
          for (const script of ["ack", "retry", "kill", "discard", "requeue"]) {
            assert.strictEqual(plan.dropped.get(script), 1, script)
          }
          const stats = yield* store.stats
          assert.strictEqual(stats.processed, 1)
          assert.strictEqual(stats.failed, 2)
          assert.strictEqual(stats.retry, 1)
          assert.strictEqual(stats.dead, 1)
          assert.strictEqual(stats.leased, 0)
          assert.strictEqual(stats.queues.find((q) => q.name === "default")?.size, 1)
          assert.strictEqual(Option.getOrThrow(yield* store.get("e")).attempt, 0)
        })
      )
    )

    it.live("a completion or discard whose reply is lost still frees the caller-chosen id (defect 6)", () =>
      withEnv(({ io, plan, prefix, store }) =>
        Effect.gen(function* () {
          yield* store.enqueue([newJob("order-1"), newJob("order-2")])
          const [one, two] = yield* store.claim(claimOptions(2))
          loseNext(plan, "ack")
          assert.strictEqual(yield* store.ack([leaseOf(one!)]), 1)
          loseNext(plan, "discard")
          assert.isTrue(yield* store.discard(leaseOf(two!)))
          const index = RedisKeys.idsIndex(prefix)
          // Freed in the background, right after the settlement.
          let left: unknown = "?"
          for (let i = 0; i < 100; i++) {
            left = yield* io.send("HMGET", index, "order-1", "order-2")
            if ((left as Array<unknown>).every((value) => value === null)) break
            yield* Effect.sleep("10 millis")
          }
          assert.deepStrictEqual(left, [null, null])
        })
      )
    )

    it.live("the reaper frees id-index entries of jobs that are gone, and keeps young reservations (defect 6)", () =>
      withEnv(({ io, prefix, store }) =>
        Effect.gen(function* () {
          const index = RedisKeys.idsIndex(prefix)
          yield* store.enqueue([newJob("live-1")])
          // A deletion whose forgetIds never ran (its reply lost, its process killed), long ago.
          yield* io.send("HSET", index, "ghost-1", "mail@1000")
          // A reservation whose enqueue is still on its way: "mail" does not hold the job yet.
          yield* io.runScript(scripts().reserveIds, [index], ["mail", 60_000, "fresh-1"])
          yield* store.reap
          const [ghost, fresh, live] = (yield* io.send("HMGET", index, "ghost-1", "fresh-1", "live-1")) as Array<
            string | null
          >
          assert.isNull(ghost)
          assert.match(String(fresh), /^mail@\d+$/)
          assert.match(String(live), /^default@\d+$/)
        })
      )
    )

    it.live("a caller-chosen id enqueued into two queues at once lands in one only (defect 3)", () =>
      withEnv(({ io, prefix, store }) =>
        Effect.gen(function* () {
          // Process A reserved "order-42" for "mail" and stalls (a GC pause) before writing it.
          const index = RedisKeys.idsIndex(prefix)
          const reserved = yield* io.runScript(scripts().reserveIds, [index], ["mail", 60_000, "order-42"])
          assert.deepStrictEqual(reserved, [""])
          // Process B enqueues the same id into "reports" meanwhile: "mail" does not hold it yet.
          const [b] = yield* store.enqueue([newJob("order-42", "reports")])
          assert.strictEqual(b!.outcome, "duplicate")
          // A wakes up and writes its job.
          const [a] = yield* store.enqueue([newJob("order-42", "mail")])
          assert.strictEqual(a!.outcome, "enqueued")
          assert.strictEqual((yield* store.listQueue("reports", { offset: 0, limit: 10 })).total, 0)
          assert.strictEqual(Option.getOrThrow(yield* store.get("order-42")).queue, "mail")
        })
      )
    )

    it.live("a reservation past its grace whose queue never wrote the job is taken over (defect 3)", () =>
      withEnv(({ io, prefix, store }) =>
        Effect.gen(function* () {
          const index = RedisKeys.idsIndex(prefix)
          // A crash between the steps, long ago: the id is recorded for "mail", which never got the job.
          yield* io.send("HSET", index, "order-7", "mail@1000")
          const [b] = yield* store.enqueue([newJob("order-7", "reports")])
          assert.strictEqual(b!.outcome, "enqueued")
          assert.strictEqual(Option.getOrThrow(yield* store.get("order-7")).queue, "reports")
        })
      )
    )

    it.live("an enqueue whose reply is lost writes one job and answers enqueued, not duplicate (defect 4)", () =>
      withEnv(({ client, plan, store }) =>
        Effect.gen(function* () {
          loseNext(plan, "enqueue")
          const generated = yield* client.enqueue(Note, { n: 1 })
          assert.strictEqual(generated.outcome, "enqueued")
          loseNext(plan, "enqueue")
          const chosen = yield* client.enqueue(Note, { n: 2 }, { id: "chosen-1" })
          assert.deepStrictEqual(chosen, { id: "chosen-1", outcome: "enqueued" })
          assert.strictEqual(plan.dropped.get("enqueue"), 2)
          const page = yield* store.listQueue("default", { offset: 0, limit: 10 })
          assert.deepStrictEqual(
            page.jobs.map((job) => job.id),
            [generated.id, "chosen-1"]
          )
        })
      )
    )

    it.live(
      "an enqueue that keeps losing replies fails retryable with the ids it may have written and what it wrote (defect 4)",
      () =>
        withEnv(
          ({ client, plan, store }) =>
            Effect.gen(function* () {
              // The first chunk's reply arrives; every later one is lost.
              plan.drop = (script, call) => script === "enqueue" && call > 1
              const error = yield* Effect.flip(
                client.enqueueMany(
                  Note,
                  [1, 2, 3, 4, 5].map((n) => ({ n }))
                )
              )
              assert.isTrue(error._tag === "QueueStoreError" && error.retryable)
              if (error._tag !== "QueueStoreError") return
              assert.strictEqual(error.written?.length, 2)
              assert.strictEqual(error.unconfirmed?.length, 2)
              // The chunk whose reply was lost was written: its ids are the ones to retry with.
              const page = yield* store.listQueue("default", { offset: 0, limit: 10 })
              assert.deepStrictEqual(
                page.jobs.map((job) => job.id),
                [...error.written!.map((result) => result.id), ...error.unconfirmed!]
              )
            }),
          { settleRetry: "300 millis", chunkSize: 2 }
        )
    )
  })
}
