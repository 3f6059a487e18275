import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, SchemaIssue } from "effect"
import { Job, JobError, JobRegistry } from "../src/index.ts"
import * as JobsTest from "../src/testing.ts"

/** A `Discard` as another installed copy of the package defines it: same key, another class. */
class ForeignDiscard extends Schema.TaggedError<ForeignDiscard>()("Discard", {
  reason: Schema.optional(Schema.String)
}) {
  get [JobError.ControlTypeId](): "Discard" {
    return "Discard"
  }
}

/** A user's own error that happens to share the tag: not a control signal. */
class UserDiscard extends Schema.TaggedError<UserDiscard>()("Discard", { reason: Schema.optional(Schema.String) }) {}

const Sync = Job.make("Sync", { payload: { n: Schema.Number }, error: Schema.Any, retry: 3 })

describe("JobError", () => {
  it("control signals are recognised by their key, not their class", () => {
    assert.isTrue(JobError.isDiscard(new JobError.Discard({})))
    assert.isTrue(JobError.isDiscard(new ForeignDiscard({})))
    assert.isFalse(JobError.isDiscard(new UserDiscard({})))
    assert.isTrue(JobError.isRetryIn(JobError.RetryIn.after("1 second")))
    assert.isTrue(JobError.isUnrecoverable(new JobError.Unrecoverable({ message: "no" })))
    assert.isFalse(JobError.isJobControl(new Error("Discard")))
    // The key is not one of the error's fields: it does not show in its encoded form.
    assert.notInclude(JSON.stringify(new JobError.Discard({ reason: "x" })), JobError.ControlTypeId)
  })

  it.effect("a Discard from another copy of the package drops the job; a user error tagged Discard is retried", () =>
    Effect.gen(function* () {
      yield* Sync.enqueue({ n: 1 })
      yield* Sync.enqueue({ n: 2 })
      const result = yield* JobsTest.drain()
      assert.strictEqual(result.discarded, 1)
      assert.strictEqual(result.retried, 1)
    }).pipe(
      Effect.provide(
        JobsTest.layerWith({
          handlers: JobRegistry.add(
            Sync.handle(({ n }) => Effect.fail(n === 1 ? new ForeignDiscard({}) : new UserDiscard({})))
          )
        })
      )
    )
  )

  it.effect("InvalidPayload keeps the schema's issue as its cause", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Sync.enqueue({ n: "one" as unknown as number }))
      assert.strictEqual(error._tag, "InvalidPayload")
      assert.isTrue(error._tag === "InvalidPayload" && SchemaIssue.isIssue(error.cause))
      assert.include(error.message, "Sync.payload.n")
    }).pipe(Effect.provide(JobsTest.layer))
  )
})
