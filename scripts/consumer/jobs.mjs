// A jobs module in plain JavaScript, as an app outside the repository writes it: the CLI's
// `--jobs` target and the worker's handlers.
import { Job } from "@effect-jobs/core"
import { Effect, Schema } from "effect"

export const Greet = Job.make("Greet", { payload: { name: Schema.String } })

export const handlers = [Greet.handle(({ name }) => Effect.sync(() => console.log(`hello ${name}`)))]
