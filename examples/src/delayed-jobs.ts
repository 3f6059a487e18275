/**
 * Seed 003, "Delayed jobs with Sidekiq", as an effect-jobs program.
 *
 * Walks through the tutorial on the embedded in-memory store, or on Redis when `REDIS_URL`
 * is set or `--redis <url>` is given (keys under a fresh `effect-jobs-example-<pid>` prefix,
 * deleted when it ends):
 * 1. slow work moved out of a request into a job, so the request returns at once;
 * 2. 500 jobs drained by 25 concurrent workers;
 * 3. a job that fails, is retried with backoff and ends in the dead set;
 * 4. a job scheduled for later (perform_in);
 * 5. an urgent queue overtaking a busy default queue (`urgent:10, default:1`).
 *
 * Run it with `npm start`. With `--keep-running` the worker stays up after the tour until
 * Ctrl-C, which shuts it down gracefully.
 */
import { JobClient, JobEvents, JobWorker, MemoryBackend, QueueStore } from "@effect-jobs/core"
import { IoRedis, RedisBackend } from "@effect-jobs/redis"
import { Cause, Clock, Deferred, Effect, Layer, Ref, Stream } from "effect"
import * as Jobs from "./delayed-jobs/jobs.ts"
import { runMain } from "./runMain.ts"

const log = (line: string) => Effect.sync(() => console.log(line))

const program = Effect.gen(function* () {
  const started = yield* Clock.currentTimeMillis
  const since = (from: number) => Effect.map(Clock.currentTimeMillis, (now) => `${now - from} ms`)
  const ran = yield* Ref.make<Array<{ job: string; key: string; at: number }>>([])
  const urgentStarted = yield* Deferred.make<number>()
  const note = (job: string, key: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(ran, (list) => [...list, { job, key, at }]))

  // One registration layer per job, merged (split them by module as an app grows).
  const handlers = Layer.mergeAll(
    Jobs.ProcessPost.toLayer(({ postId }) =>
      Effect.sleep("300 millis").pipe(Effect.andThen(note("ProcessPost", String(postId))))
    ),
    Jobs.DemoWork.toLayer(({ n }) => Effect.sleep("40 millis").pipe(Effect.andThen(note("DemoWork", String(n))))),
    Jobs.Flaky.toLayer(({ url }, job) =>
      Effect.fail(new Jobs.UpstreamDown({ message: `${url} still down on attempt ${job.attempt}` }))
    ),
    Jobs.Reminder.toLayer(({ userId }) => note("Reminder", String(userId))),
    Jobs.SlowDefault.toLayer(({ n }) => Effect.sleep("50 millis").pipe(Effect.andThen(note("SlowDefault", String(n))))),
    Jobs.Urgent.toLayer(({ message }) =>
      Clock.currentTimeMillis.pipe(
        Effect.tap((at) => Deferred.succeed(urgentStarted, at)),
        Effect.andThen(note("Urgent", message))
      )
    )
  )

  const redisUrl = redisUrlFromArgs()
  yield* log(redisUrl === undefined ? "store: in memory (embedded)" : "store: Redis")
  const prefix = `effect-jobs-example-${process.pid}`
  const stores = redisUrl === undefined ? MemoryBackend.layer() : RedisBackend.layer({ url: redisUrl, prefix })
  const backend = Layer.merge(stores, JobEvents.layer)
  const worker = JobWorker.layer({
    queues: [
      ["urgent", 10],
      ["default", 1]
    ],
    concurrency: 25
  }).pipe(Layer.provide(handlers))
  const app = Layer.merge(worker, JobClient.layer())

  yield* Effect.gen(function* () {
    const events = yield* JobEvents.JobEvents
    // Print the life of the failing job as it happens.
    yield* events.stream.pipe(
      Stream.filter((event) => event.name === "Flaky" && event._tag !== "Enqueued" && event._tag !== "Started"),
      Stream.runForEach((event) =>
        log(
          `  Flaky ${event._tag.toLowerCase()}` +
            (event._tag === "Retried" ? `, next attempt in ${event.delayMillis} ms` : "") +
            (event._tag === "Dead" ? `: ${event.reason}` : "")
        )
      ),
      Effect.forkScoped
    )
    const store = yield* QueueStore.QueueStore

    yield* log("1. A request enqueues the slow work and returns at once")
    const requestStart = yield* Clock.currentTimeMillis
    yield* Jobs.ProcessPost.enqueue({ postId: 42 })
    yield* log(`  request done in ${yield* since(requestStart)}; ProcessPost (300 ms of work) runs in the background`)

    yield* log("2. 500 jobs drained by 25 concurrent workers")
    const batchStart = yield* Clock.currentTimeMillis
    yield* Jobs.DemoWork.enqueueMany(Array.from({ length: 500 }, (_, n) => ({ n })))
    yield* waitUntil(Ref.get(ran), (list) => list.filter((e) => e.job === "DemoWork").length === 500)
    yield* log(`  500 jobs of 40 ms each done in ${yield* since(batchStart)} (one at a time: 20000 ms)`)

    yield* log("3. A failing job is retried with backoff, then lands in the dead set")
    yield* Jobs.Flaky.enqueue({ url: "https://partner.example/api" })
    yield* waitUntil(store.stats, (stats) => stats.dead === 1)
    const [dead] = (yield* store.list("dead", { offset: 0, limit: 1 })).jobs
    yield* log(`  dead set: ${dead?.name} after ${dead?.attempt} attempts, errors kept: ${dead?.errors.length}`)

    yield* log("4. A job scheduled for later (perform_in 1 second)")
    const scheduledAt = yield* Clock.currentTimeMillis
    yield* Jobs.Reminder.enqueue({ userId: 7 }, { delay: "1 second" })
    yield* waitUntil(Ref.get(ran), (list) => list.some((e) => e.job === "Reminder"))
    const reminder = (yield* Ref.get(ran)).find((e) => e.job === "Reminder")
    yield* log(`  Reminder ran ${(reminder?.at ?? 0) - scheduledAt} ms after it was enqueued`)

    yield* log("5. An urgent job overtakes a busy default queue")
    yield* Jobs.SlowDefault.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ n })))
    yield* Effect.sleep("100 millis")
    yield* Jobs.Urgent.enqueue({ message: "page the on-call" })
    const urgentAt = yield* Deferred.await(urgentStarted)
    const before = (yield* Ref.get(ran)).filter((e) => e.job === "SlowDefault" && e.at <= urgentAt).length
    yield* log(`  Urgent started while ${300 - before} of 300 default jobs were still waiting or running`)
    yield* waitUntil(Ref.get(ran), (list) => list.filter((e) => e.job === "SlowDefault").length === 300)

    // A handler returns before its job is acked (acks ride on the worker's next claim): count
    // once no job holds a lease any more, or the last acks may be missing from the total.
    const stats = yield* waitUntil(store.stats, (stats) => stats.leased === 0)
    yield* log(
      `Done in ${yield* since(started)}: processed ${stats.processed}, failed attempts ${stats.failed}, dead ${stats.dead}`
    )
    if (process.argv.includes("--keep-running")) {
      yield* log("Worker keeps running; press Ctrl-C to stop it gracefully")
      return yield* Effect.never
    }
  }).pipe(
    Effect.scoped,
    Effect.provide(app),
    // Once the worker has stopped (also on Ctrl-C), over the connection that is still open.
    Effect.ensuring(removeKeys(prefix)),
    Effect.provide(backend)
  )
})

/** On Redis, deletes every key the tour wrote (all under its own prefix); nothing in memory. */
const removeKeys = (prefix: string) =>
  Effect.gen(function* () {
    const redis = yield* Effect.serviceOption(IoRedis.IoRedis)
    if (redis._tag === "None") return
    let cursor = "0"
    let removed = 0
    do {
      const [next, keys] = (yield* redis.value.send("SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)) as [
        string,
        Array<string>
      ]
      cursor = next
      if (keys.length > 0) removed += Number(yield* redis.value.send("UNLINK", ...keys))
    } while (cursor !== "0")
    yield* log(`removed the tour's ${removed} Redis keys (prefix ${prefix})`)
  }).pipe(Effect.catchCause((cause) => log(`could not remove the tour's Redis keys: ${Cause.pretty(cause)}`)))

/** `--redis <url>` wins over `REDIS_URL`; neither means the in-memory store. */
const redisUrlFromArgs = (): string | undefined => {
  const index = process.argv.indexOf("--redis")
  if (index >= 0) {
    const url = process.argv[index + 1]
    if (url === undefined || url.startsWith("--"))
      throw new Error("--redis needs a URL, e.g. --redis redis://127.0.0.1:6379")
    return url
  }
  return process.env.REDIS_URL === undefined || process.env.REDIS_URL === "" ? undefined : process.env.REDIS_URL
}

/** Polls a reading until it satisfies `done`, and returns that reading (only the tour polls; workers never do). */
const waitUntil = <A, E>(read: Effect.Effect<A, E>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    for (;;) {
      const value = yield* read
      if (done(value)) return value
      yield* Effect.sleep("20 millis")
    }
  })

runMain(program)
