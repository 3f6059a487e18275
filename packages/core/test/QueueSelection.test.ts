import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Random, Schema } from "effect"
import { Job, JobRegistry, QueueSelection } from "../src/index.ts"
import { assertShare, jobsLayer, settle, startWorker } from "./helpers.ts"

const parse = (spec: QueueSelection.QueueSpec, strict?: boolean): QueueSelection.QueueSelection => {
  const selection = QueueSelection.parse(spec, strict)
  if (typeof selection === "string") throw new Error(selection)
  return selection
}

/** Share of the first place going to each queue over `n` fetches. */
const firstPlaceShares = (selection: QueueSelection.QueueSelection, n: number) =>
  Effect.gen(function* () {
    const counts = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const [first] = yield* selection.order
      counts.set(first!, (counts.get(first!) ?? 0) + 1)
    }
    return counts
  })

describe("QueueSelection", () => {
  it.effect("weighted queues put urgent first about 10 times in 11 and never starve default", () =>
    Effect.gen(function* () {
      const counts = yield* firstPlaceShares(
        parse([
          ["urgent", 10],
          ["default", 1]
        ]),
        10_000
      )
      assertShare(counts.get("urgent") ?? 0, 10_000, 10 / 11, "urgent first")
      assertShare(counts.get("default") ?? 0, 10_000, 1 / 11, "default first")
    }).pipe(Random.withSeed("weighted-order"))
  )

  it.effect("weighted order always lists every queue once, so a fetch falls through to the others", () =>
    Effect.gen(function* () {
      const selection = parse({ a: 5, b: 3, c: 1 })
      assert.isFalse(selection.strict)
      for (let i = 0; i < 1_000; i++) {
        const order = yield* selection.order
        assert.deepStrictEqual([...order].sort(), ["a", "b", "c"])
      }
    }).pipe(Random.withSeed(3))
  )

  it.effect("three weights share the first place in proportion", () =>
    Effect.gen(function* () {
      const counts = yield* firstPlaceShares(parse({ a: 6, b: 3, c: 1 }), 10_000)
      for (const [name, weight] of [
        ["a", 6],
        ["b", 3],
        ["c", 1]
      ] as const) {
        assertShare(counts.get(name) ?? 0, 10_000, weight / 10, `${name} first`)
      }
    }).pipe(Random.withSeed("three"))
  )

  it.effect("plain names keep the given order on every fetch", () =>
    Effect.gen(function* () {
      const selection = parse(["critical", "default", "low"])
      assert.isTrue(selection.strict)
      for (let i = 0; i < 100; i++) assert.deepStrictEqual(yield* selection.order, ["critical", "default", "low"])
    })
  )

  it.effect("strict: true ignores the weights", () =>
    Effect.gen(function* () {
      const selection = parse(
        [
          ["low", 1],
          ["high", 100]
        ],
        true
      )
      for (let i = 0; i < 100; i++) assert.deepStrictEqual(yield* selection.order, ["low", "high"])
    })
  )

  it("rejects malformed specs with a message naming the entry", () => {
    assert.match(QueueSelection.parse([]) as string, /at least one queue/)
    assert.match(QueueSelection.parse([["a", -1]]) as string, /weight of a must be a positive number/)
    assert.match(QueueSelection.parse([["a", 0]]) as string, /weight of a/)
    assert.match(QueueSelection.parse(["a", "a"]) as string, /a is listed twice/)
    assert.match(QueueSelection.parse(["has space"]) as string, /"has space"/)
  })

  describe("in a worker", () => {
    const Tick = Job.make("Tick", { payload: { n: Schema.Number } })

    it.effect(
      "a concurrency-1 worker on weighted queues claims urgent about 10 times in 11",
      () =>
        Effect.gen(function* () {
          const claimed: Array<string> = []
          const done = yield* Deferred.make<void>()
          const handlers = JobRegistry.add(
            Tick.handle((_, job) =>
              Effect.sync(() => {
                claimed.push(job.queue)
                if (claimed.length === 10_000) Deferred.doneUnsafe(done, Effect.void)
              })
            )
          )
          yield* Effect.gen(function* () {
            // Both queues hold more than 10,000 jobs, so neither runs dry during the first 10,000 claims.
            const payloads = Array.from({ length: 10_000 }, (_, n) => ({ n }))
            yield* Tick.enqueueMany(payloads, { queue: "urgent" })
            yield* Tick.enqueueMany(payloads, { queue: "default" })
            yield* startWorker({
              queues: [
                ["urgent", 10],
                ["default", 1]
              ],
              concurrency: 1
            })
            yield* Deferred.await(done)
          }).pipe(Effect.provide(jobsLayer(handlers)))

          const first = claimed.slice(0, 10_000)
          // Each claim of a concurrency-1 worker is one weighted draw: urgent wins 10 in 11.
          assertShare(first.filter((queue) => queue === "urgent").length, first.length, 10 / 11, "urgent claims")
          // Not starved in any stretch either: default appears in every window of 500 claims.
          for (let start = 0; start < first.length; start += 500) {
            assert.include(first.slice(start, start + 500), "default", `claims ${start}..${start + 500}`)
          }
        }).pipe(Random.withSeed("worker-weighted")),
      // 20,000 jobs through a worker: seconds on a loaded machine.
      30_000
    )

    it.effect("a strict worker drains the first queue before touching the next", () =>
      Effect.gen(function* () {
        const claimed: Array<string> = []
        const handlers = JobRegistry.add(Tick.handle((_, job) => Effect.sync(() => void claimed.push(job.queue))))
        yield* Effect.gen(function* () {
          const payloads = Array.from({ length: 200 }, (_, n) => ({ n }))
          // Enqueued low first so FIFO order alone would not explain the result.
          yield* Tick.enqueueMany(payloads, { queue: "low" })
          yield* Tick.enqueueMany(payloads, { queue: "high" })
          yield* startWorker({ queues: ["high", "low"], concurrency: 1 })
          yield* settle
          while (claimed.length < 400) yield* Effect.yieldNow
        }).pipe(Effect.provide(jobsLayer(handlers)))
        assert.deepStrictEqual(claimed, [...Array(200).fill("high"), ...Array(200).fill("low")])
      })
    )

    it.effect("strict: true with weights drains in the given order too", () =>
      Effect.gen(function* () {
        const claimed: Array<string> = []
        const handlers = JobRegistry.add(Tick.handle((_, job) => Effect.sync(() => void claimed.push(job.queue))))
        yield* Effect.gen(function* () {
          const payloads = Array.from({ length: 50 }, (_, n) => ({ n }))
          yield* Tick.enqueueMany(payloads, { queue: "b" })
          yield* Tick.enqueueMany(payloads, { queue: "a" })
          yield* startWorker({
            queues: [
              ["a", 1],
              ["b", 100]
            ],
            strict: true,
            concurrency: 3
          })
          while (claimed.length < 100) yield* Effect.yieldNow
        }).pipe(Effect.provide(jobsLayer(handlers)))
        assert.deepStrictEqual(claimed, [...Array(50).fill("a"), ...Array(50).fill("b")])
      })
    )
  })
})
