// Runs a worker until it has run <count> jobs: node worker.mjs <redis-url> <prefix> <count>
import { JobClient, JobWorker } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import { Effect, Layer } from "effect"
import { Greet } from "./jobs.mjs"

const [url, prefix, count] = process.argv.slice(2)
let ran = 0
let allRan
const done = new Promise((resolve) => {
  allRan = resolve
})
const Handlers = Greet.toLayer(({ name }) =>
  Effect.sync(() => {
    console.log(`hello ${name}`)
    if (++ran === Number(count)) allRan()
  })
)
const App = Layer.mergeAll(
  JobWorker.layer({ queues: ["default"], concurrency: 2 }).pipe(Layer.provide(Handlers)),
  JobClient.layer()
).pipe(Layer.provideMerge(RedisBackend.layer({ url, prefix })))
await Effect.runPromise(Effect.promise(() => done).pipe(Effect.timeout("20 seconds"), Effect.provide(App)))
console.log(`worker ran ${ran}`)
