import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as QueueStore from "../src/QueueStore.ts"
import { suite } from "./conformance/QueueStoreSuite.ts"

suite("QueueStore.layerMemory", QueueStore.layerMemory(), {
  clock: "test-clock",
  withLimits: (limits) => QueueStore.layerMemory(limits)
})

// The suite cannot configure a store's limits, so dead-set trimming is checked here.
describe("QueueStore.layerMemory dead set limits", () => {
  const killAll = (store: QueueStore.QueueStore["Service"], ids: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      yield* store.enqueue(ids.map((id) => ({ id, name: "Test", queue: "default", payload: "{}" })))
      const claims = yield* store.claim({ queues: ["default"], limit: ids.length, owner: "w", leaseMillis: 60_000 })
      for (const claimed of claims) {
        yield* store.kill({ id: claimed.id, token: claimed.token }, { reason: "bad" })
        yield* TestClock.adjust(1)
      }
    })
  const deadIds = (store: QueueStore.QueueStore["Service"]) =>
    store.list("dead", { offset: 0, limit: 100 }).pipe(Effect.map((page) => page.jobs.map((j) => j.id)))

  it.effect("trims the oldest dead jobs past maxJobs", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      yield* killAll(store, ["d1", "d2", "d3", "d4", "d5"])
      assert.deepStrictEqual(yield* deadIds(store), ["d5", "d4", "d3"])
      assert.strictEqual((yield* store.stats).dead, 3)
      assert.isTrue(Option.isNone(yield* store.get("d1")))
    }).pipe(Effect.provide(QueueStore.layerMemory({ deadSet: { maxJobs: 3 } })))
  )

  it.effect("trims dead jobs older than maxAge when another job dies", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      yield* killAll(store, ["old"])
      yield* TestClock.adjust("59 minutes")
      yield* killAll(store, ["middle"])
      yield* TestClock.adjust("2 minutes")
      yield* killAll(store, ["new"])
      assert.deepStrictEqual(yield* deadIds(store), ["new", "middle"])
      assert.isTrue(Option.isNone(yield* store.get("old")))
    }).pipe(Effect.provide(QueueStore.layerMemory({ deadSet: { maxAge: Duration.hours(1) } })))
  )
})

describe("QueueStore.layerMemory completed retention", () => {
  const ackAll = (store: QueueStore.QueueStore["Service"], ids: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      yield* store.enqueue(ids.map((id) => ({ id, name: "Test", queue: "default", payload: "{}" })))
      const claims = yield* store.claim({ queues: ["default"], limit: ids.length, owner: "w", leaseMillis: 60_000 })
      for (const claimed of claims) {
        assert.strictEqual(yield* store.ack([{ id: claimed.id, token: claimed.token }]), 1)
        yield* TestClock.adjust(1)
      }
    })
  const enqueueOutcome = (store: QueueStore.QueueStore["Service"], id: string) =>
    store
      .enqueue([{ id, name: "Test", queue: "default", payload: "{}" }])
      .pipe(Effect.map((results) => results[0]?.outcome))

  it.effect("deletes completed jobs by default, counters kept", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      yield* ackAll(store, ["c1", "c2"])
      assert.isTrue(Option.isNone(yield* store.get("c1")))
      assert.strictEqual((yield* store.stats).processed, 2)
      assert.strictEqual(yield* enqueueOutcome(store, "c1"), "enqueued")
    }).pipe(Effect.provide(QueueStore.layerMemory()))
  )

  it.effect("keeps the newest keepLast completed jobs, readable and taken as ids", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      yield* ackAll(store, ["c1", "c2", "c3", "c4", "c5"])
      for (const id of ["c1", "c2"]) assert.isTrue(Option.isNone(yield* store.get(id)))
      for (const id of ["c3", "c4", "c5"])
        assert.strictEqual(Option.getOrThrow(yield* store.get(id)).state, "completed")
      assert.strictEqual((yield* store.stats).processed, 5)
      assert.strictEqual(yield* enqueueOutcome(store, "c4"), "duplicate")
      assert.strictEqual(yield* enqueueOutcome(store, "c1"), "enqueued")
    }).pipe(Effect.provide(QueueStore.layerMemory({ completed: { keepLast: 3 } })))
  )

  it.effect("drops completed jobs older than keepFor when another job completes", () =>
    Effect.gen(function* () {
      const store = yield* QueueStore.QueueStore
      yield* ackAll(store, ["old"])
      assert.strictEqual(Option.getOrThrow(yield* store.get("old")).state, "completed")
      assert.strictEqual(yield* enqueueOutcome(store, "old"), "duplicate")
      yield* TestClock.adjust("59 minutes")
      yield* ackAll(store, ["middle"])
      yield* TestClock.adjust("2 minutes")
      yield* ackAll(store, ["new"])
      assert.isTrue(Option.isNone(yield* store.get("old")))
      assert.strictEqual(Option.getOrThrow(yield* store.get("middle")).state, "completed")
      assert.strictEqual(Option.getOrThrow(yield* store.get("new")).state, "completed")
      assert.strictEqual(yield* enqueueOutcome(store, "old"), "enqueued")
    }).pipe(Effect.provide(QueueStore.layerMemory({ completed: { keepFor: Duration.hours(1) } })))
  )
})
