import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Schema, Stream } from "effect"
import { Job, JobEvents } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

const Ping = Job.make("Ping", { payload: { n: Schema.Number } })

it.effect("JobEvents.stream gives the events published after it starts", () =>
  Effect.gen(function* () {
    const first = yield* JobEvents.stream.pipe(Stream.take(1), Stream.runCollect, Effect.forkScoped)
    yield* Effect.yieldNow
    const { id } = yield* Ping.enqueue({ n: 1 })
    const events = yield* Fiber.join(first)
    assert.deepStrictEqual(
      Array.from(events).map((event) => [event._tag, event.id, event.name]),
      [["Enqueued", id, "Ping"]]
    )
  }).pipe(Effect.scoped, Effect.provide(JobsTest.layer))
)
