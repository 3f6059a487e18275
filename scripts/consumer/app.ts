// TypeScript as a user writes it: run by Node's type stripping and checked by `tsc --noEmit`
// with the config `tsc --init` writes. It uses the public types: a Schema-typed payload, the
// typed client, the test kit.
import { Job } from "@effect-jobs/core"
import * as JobsTest from "@effect-jobs/core/testing"
import { Effect, Schema } from "effect"

const SendWelcome = Job.make("SendWelcome", { payload: { userId: Schema.Number }, queue: "mailers" })

const sent: Array<number> = []
const Handlers = SendWelcome.toLayer(({ userId }) => Effect.sync(() => sent.push(userId)))

const program: Effect.Effect<number, unknown, never> = Effect.gen(function* () {
  yield* SendWelcome.enqueue({ userId: 1 })
  yield* SendWelcome.enqueueMany([{ userId: 2 }, { userId: 3 }])
  const drained: JobsTest.DrainResult = yield* JobsTest.drain()
  return drained.succeeded
}).pipe(Effect.provide(JobsTest.layerWith({ handlers: Handlers })))

const ran = await Effect.runPromise(program)
if (ran !== 3 || sent.join() !== "1,2,3") throw new Error(`expected 3 jobs to run, ran ${ran}`)
console.log(`app.ts ran ${ran} jobs`)
