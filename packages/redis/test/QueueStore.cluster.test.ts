/**
 * The store on Redis Cluster: a 3-master cluster of `redis-server` processes on loopback,
 * the conformance suite (a fresh prefix per test), and a worker over queues on different masters.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Job, JobClient, JobRegistry, QueueStore, JobWorker } from "@effect-jobs/core"
import { type StoreLimits, suite } from "@effect-jobs/core/test/conformance/QueueStoreSuite.ts"
import { Context, Effect, Exit, Fiber, Layer, Schema } from "effect"
import * as IoRedis from "../src/IoRedis.ts"
import * as RedisKeys from "../src/RedisKeys.ts"
import {
  ownServer,
  quiet,
  quietBackend,
  recordLogs,
  statsOnceProcessed,
  storeOf,
  subscribed,
  waitUntil
} from "./helpers/effects.ts"
import { lostReplySuite } from "./helpers/lostReplySuite.ts"
import { type RedisCluster, startRedisCluster } from "./helpers/redisCluster.ts"
import { command, uniquePrefix } from "./helpers/redisServer.ts"

let cluster: RedisCluster | undefined
const clusterUrl = () => {
  if (cluster === undefined) throw new Error("the cluster did not start")
  return cluster.url
}
beforeAll(async () => {
  cluster = await startRedisCluster(3)
}, 60_000)
afterAll(() => cluster?.stop(), 30_000)

// A fresh key prefix at every build: the suite builds the layer once per test. The cluster is
// found by the startup check (`INFO cluster`), not configured.
const withLimits = (limits: StoreLimits) =>
  Layer.unwrap(Effect.sync(() => quietBackend({ url: clusterUrl(), prefix: uniquePrefix("cluster"), ...limits })))

suite("RedisQueueStore on Redis Cluster", withLimits({}), { clock: "live", withLimits })

lostReplySuite("Redis Cluster", clusterUrl)

const Work = Job.make("ClusterWork", { payload: { n: Schema.Number } })

describe("Redis Cluster", () => {
  it.live(
    "detects cluster mode at startup and checks every master",
    () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const io = yield* Layer.build(IoRedis.layer({ url: clusterUrl(), allowEviction: true })).pipe(
          Effect.map(Context.get(IoRedis.IoRedis)),
          Effect.provide(recordLogs(lines))
        )
        assert.deepStrictEqual(io.server.cluster, { masters: 3 })
        assert.isTrue(lines.some((line) => line.includes("cluster mode detected (3 masters)")))
        // Keys in different slots, one command each: routed to their masters (a wrong node answers MOVED).
        const prefix = uniquePrefix("route")
        for (const tag of ["a", "b", "c"]) {
          assert.strictEqual(yield* io.send("SET", `${prefix}:{${tag}}:x`, tag), "OK")
          assert.strictEqual(yield* io.send("GET", `${prefix}:{${tag}}:x`), tag)
          yield* io.send("DEL", `${prefix}:{${tag}}:x`)
        }

        // Every master is checked, not only the one the URL names: an evicting policy on the
        // last node fails startup, naming that node.
        const last = cluster!.nodes[2]!
        yield* Effect.acquireRelease(
          Effect.promise(() => command(last.url, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")),
          () => Effect.promise(() => command(last.url, "CONFIG", "SET", "maxmemory-policy", "noeviction"))
        )
        const exit = yield* Effect.exit(
          Effect.scoped(Layer.build(IoRedis.layer({ url: clusterUrl(), startupTimeout: "5 seconds" })))
        )
        assert.isTrue(Exit.isFailure(exit), "startup refused an evicting master")
        assert.include(String(exit), `node 127.0.0.1:${last.port}`)
        assert.include(String(exit), "maxmemory-policy allkeys-lru")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "cluster: true with more seed nodes; dedicated connections; scripts reloaded on a node that lost them",
    () =>
      Effect.gen(function* () {
        const c = cluster!
        const seeds = c.nodes.slice(1).map((node) => `127.0.0.1:${node.port}`)
        const backend = yield* Layer.build(
          quietBackend({ url: clusterUrl(), cluster: true, clusterNodes: seeds, prefix: uniquePrefix("scripts") })
        )
        const io = Context.get(backend, IoRedis.IoRedis)
        const store = Context.get(backend, QueueStore.QueueStore)
        assert.deepStrictEqual(io.server.cluster, { masters: 3 })
        // Every node forgets every script: EVALSHA answers NOSCRIPT wherever the keys live.
        yield* Effect.promise(() => Promise.all(c.nodes.map((node) => command(node.url, "SCRIPT", "FLUSH"))))
        const queues = ["a", "b", "c", "d", "e", "f"]
        yield* Effect.forEach(queues, (queue) =>
          store.enqueue([{ id: `job-${queue}`, name: "T", payload: "{}", queue }])
        )
        const claimed = yield* store.claim({ queues, limit: 10, owner: "w", leaseMillis: 60_000 })
        assert.deepStrictEqual(
          claimed.map((j) => j.id).sort(),
          queues.map((q) => `job-${q}`)
        )
        // A dedicated connection (as for blocking commands) follows the slots too.
        const connection = yield* io.open("blocking")
        const key = `${uniquePrefix("blocking")}:{z}:list`
        yield* io.send("RPUSH", key, "x")
        assert.deepStrictEqual(yield* connection.send("BLPOP", key, 1), [key, "x"])
        yield* connection.close
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "cluster: true against a plain Redis fails at startup",
    () =>
      Effect.gen(function* () {
        const server = yield* ownServer()
        const exit = yield* Effect.exit(
          Effect.scoped(Layer.build(IoRedis.layer({ url: server.url, cluster: true, startupTimeout: "5 seconds" })))
        )
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(exit), "not a Redis Cluster node")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "an idle waiter is woken by work on any master",
    () =>
      Effect.gen(function* () {
        const prefix = uniquePrefix("wake")
        const waiter = yield* storeOf({ url: clusterUrl(), prefix })
        const producer = yield* storeOf({ url: clusterUrl(), prefix })
        for (const queue of ["a", "b", "c", "d", "e", "f"]) {
          const fiber = yield* Effect.forkChild(waiter.awaitWork([queue], 10_000))
          yield* subscribed(
            cluster!.nodes.map((node) => node.url),
            [RedisKeys.queueKeys(prefix, queue).wake]
          )
          assert.isUndefined(fiber.pollUnsafe(), `waits while ${queue} is empty`)
          const start = performance.now()
          yield* producer.enqueue([{ id: `wake-${queue}`, name: "T", payload: "{}", queue }])
          yield* Fiber.join(fiber)
          assert.isBelow(performance.now() - start, 3_000, `woken by the enqueue on ${queue}`)
        }
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a worker runs 300 jobs over 3 queues on 3 masters, each exactly once",
    () =>
      Effect.gen(function* () {
        const c = cluster!
        // Pick three queue names whose hash tags land on three different masters.
        const queues: Array<string> = []
        const masters = new Set<string>()
        for (let i = 0; queues.length < 3 && i < 100; i++) {
          const name = `q${i}`
          const slot = yield* Effect.promise(() => c.keyslot(`x:{${name}}:ready`))
          const master = yield* Effect.promise(() => c.masterOf(slot))
          if (!masters.has(master)) {
            masters.add(master)
            queues.push(name)
          }
        }
        assert.strictEqual(masters.size, 3)

        const total = 300
        const runs = new Map<number, number>()
        const handlers = JobRegistry.add(
          Work.handle(({ n }) =>
            Effect.sync(() => {
              runs.set(n, (runs.get(n) ?? 0) + 1)
            })
          )
        )
        const prefix = uniquePrefix("worker")
        const backend = quietBackend({ url: clusterUrl(), prefix })
        yield* Effect.gen(function* () {
          // Start the worker first, so most jobs arrive while it sleeps on pub/sub wake-ups.
          yield* Layer.build(JobWorker.layer({ queues, concurrency: 10 }).pipe(Layer.provide(handlers)))
          yield* subscribed(
            c.nodes.map((node) => node.url),
            queues.map((queue) => RedisKeys.queueKeys(prefix, queue).wake)
          )
          for (const [i, queue] of queues.entries()) {
            const results = yield* Work.enqueueMany(
              Array.from({ length: total / 3 }, (_, k) => ({ n: i * (total / 3) + k })),
              { queue }
            )
            assert.isTrue(results.every((r) => r.outcome === "enqueued"))
          }
          yield* waitUntil(() => runs.size === total, 30_000)
          assert.strictEqual(runs.size, total)
          for (const [n, count] of runs) assert.strictEqual(count, 1, `job ${n} ran ${count} times`)
          const stats = yield* statsOnceProcessed(total)
          assert.strictEqual(stats.processed, total)
          assert.strictEqual(stats.leased, 0)
          for (const queue of queues) {
            const q = stats.queues.find((s) => s.name === queue)
            assert.strictEqual(q?.size, 0, `queue ${queue} is not empty`)
          }
        }).pipe(
          Effect.scoped,
          Effect.provide(JobClient.layer().pipe(Layer.provideMerge(backend))),
          Effect.provide(quiet)
        )
      }),
    60_000
  )
})
