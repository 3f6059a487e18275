import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime, Option, Schema } from "effect"
import { Job, JobError, PromiseClient, QueueStore } from "../src/index.ts"

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number } })

/** A memory store that records the size of every `enqueue` call, the jobs written, and whether it was released. */
const countingStore = (
  calls: Array<number>,
  released: { value: boolean } = { value: false },
  written: Array<QueueStore.NewJob> = []
) =>
  Layer.effect(
    QueueStore.QueueStore,
    Effect.gen(function* () {
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          released.value = true
        })
      )
      const store = yield* QueueStore.makeMemory()
      return QueueStore.QueueStore.of({
        ...store,
        enqueue: (jobs) =>
          Effect.suspend(() => {
            calls.push(jobs.length)
            written.push(...jobs)
            return store.enqueue(jobs)
          })
      })
    })
  )

// Type test (checked by `npm run check`, never run): the payload is typed from the job definition.
export const payloadIsTyped = (jobs: PromiseClient.PromiseClient) => {
  // @ts-expect-error userId must be a number
  void jobs.enqueue(SendWelcome, { userId: "nope" })
  // @ts-expect-error the job's payload has no field "email"
  void jobs.enqueueMany(SendWelcome, [{ userId: 1, email: "a@b.c" }])
}

describe("PromiseClient (promise facade)", () => {
  it("fromRuntime shares the app's runtime and store, and close leaves that runtime running", async () => {
    const calls: Array<number> = []
    const released = { value: false }
    const runtime = ManagedRuntime.make(countingStore(calls, released))
    try {
      const jobs = await PromiseClient.fromRuntime(runtime)
      const id = await jobs.enqueue(SendWelcome, { userId: 1 })
      await jobs.close()
      // The app's own effects see the job in the same store, and the runtime still runs them.
      const stored = await runtime.runPromise(QueueStore.QueueStore.use((store) => store.get(id)))
      assert.strictEqual(Option.getOrThrow(stored).payload, JSON.stringify({ userId: 1 }))
      assert.deepStrictEqual(calls, [1])
      assert.isFalse(released.value)
      const error = await jobs.enqueue(SendWelcome, { userId: 2 }).then(
        () => undefined,
        (e: unknown) => e
      )
      assert.instanceOf(error, PromiseClient.PromiseClientClosed)
      assert.strictEqual((error as PromiseClient.PromiseClientClosed)._tag, "PromiseClientClosed")
    } finally {
      await runtime.dispose()
    }
    assert.isTrue(released.value)
  })

  it("enqueues a typed job and resolves to its id; the job is in the store", async () => {
    const calls: Array<number> = []
    const layer = countingStore(calls)
    const memoMap = Layer.makeMemoMapUnsafe()
    const jobs = await PromiseClient.make(layer, { memoMap })
    try {
      const id = await jobs.enqueue(SendWelcome, { userId: 1 })
      assert.isString(id)
      const custom = await jobs.enqueue(SendWelcome, { userId: 2 }, { id: "welcome-2" })
      assert.strictEqual(custom, "welcome-2")
      // Read the store through a runtime sharing the memo map (so the same store).
      const { ManagedRuntime } = await import("effect")
      const reader = ManagedRuntime.make(layer, { memoMap })
      const stored = await reader.runPromise(QueueStore.QueueStore.use((store) => store.get(id)))
      assert.isTrue(Option.isSome(stored))
      assert.strictEqual(Option.getOrThrow(stored).name, "SendWelcome")
      assert.strictEqual(Option.getOrThrow(stored).payload, JSON.stringify({ userId: 1 }))
      await reader.dispose()
    } finally {
      await jobs.close()
    }
  })

  it("rejects a bad payload with the typed error and its path, without affecting the rest of the batch", async () => {
    const calls: Array<number> = []
    const jobs = await PromiseClient.make(countingStore(calls))
    try {
      const results = await Promise.allSettled([
        jobs.enqueue(SendWelcome, { userId: 1 }),
        jobs.enqueue(SendWelcome, { userId: "two" } as never),
        jobs.enqueue(SendWelcome, { userId: 3 })
      ])
      assert.strictEqual(results[0].status, "fulfilled")
      assert.strictEqual(results[2].status, "fulfilled")
      assert.strictEqual(results[1].status, "rejected")
      const error = (results[1] as PromiseRejectedResult).reason
      assert.instanceOf(error, JobError.InvalidPayload)
      assert.include(error.message, "userId")
      // The two good ones were written together, in one store call.
      assert.deepStrictEqual(calls, [2])
    } finally {
      await jobs.close()
    }
  })

  it("rejects invalid options with InvalidEnqueueOptions", async () => {
    const jobs = await PromiseClient.make(countingStore([]))
    try {
      const error = await jobs.enqueue(SendWelcome, { userId: 1 }, { delay: -5 }).then(
        () => undefined,
        (e: unknown) => e
      )
      assert.instanceOf(error, JobError.InvalidEnqueueOptions)
    } finally {
      await jobs.close()
    }
  })

  it("pipelines 1,000 concurrent enqueues into far fewer store calls", async () => {
    const calls: Array<number> = []
    const jobs = await PromiseClient.make(countingStore(calls))
    try {
      const ids = await Promise.all(Array.from({ length: 1000 }, (_, n) => jobs.enqueue(SendWelcome, { userId: n })))
      assert.strictEqual(new Set(ids).size, 1000)
      assert.strictEqual(
        calls.reduce((a, b) => a + b, 0),
        1000
      )
      assert.isAtMost(calls.length, 10, `store calls: ${calls.join(",")}`)
    } finally {
      await jobs.close()
    }
  })

  it("enqueueMany resolves to the ids in order", async () => {
    const calls: Array<number> = []
    const written: Array<QueueStore.NewJob> = []
    const jobs = await PromiseClient.make(countingStore(calls, { value: false }, written))
    try {
      const ids = await jobs.enqueueMany(SendWelcome, [{ userId: 1 }, { userId: 2 }, { userId: 3 }])
      assert.deepStrictEqual(calls, [3])
      // The i-th id is the id of the i-th payload's job.
      assert.deepStrictEqual(
        ids,
        written.map((job) => job.id)
      )
      assert.deepStrictEqual(
        written.map((job) => JSON.parse(job.payload)),
        [{ userId: 1 }, { userId: 2 }, { userId: 3 }]
      )
      assert.strictEqual(new Set(ids).size, 3)
    } finally {
      await jobs.close()
    }
  })

  it("close() waits for issued enqueues, releases the layer, and later calls reject", async () => {
    const calls: Array<number> = []
    const released = { value: false }
    const jobs = await PromiseClient.make(countingStore(calls, released))
    const issued = jobs.enqueue(SendWelcome, { userId: 1 })
    await jobs.close()
    assert.isString(await issued)
    assert.isTrue(released.value)
    const error = await jobs.enqueue(SendWelcome, { userId: 2 }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, PromiseClient.PromiseClientClosed)
  })
})
