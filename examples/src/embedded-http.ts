/**
 * Embedding: the worker as a Layer inside an existing Effect HTTP service.
 *
 * One process serves `POST /images/resize` with `effect/http` on `@effect/platform-node` and
 * runs the worker that does the resizing. Both are layers of one app: they start together,
 * and on SIGINT/SIGTERM the app's scope closes, the server stops taking requests and the
 * worker shuts down gracefully (running jobs finish or go back to their queue).
 *
 * `node examples/src/embedded-http.ts [--port 3000] [--redis URL]`
 */
import { createServer } from "node:http"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Job, JobClient, JobWorker, MemoryBackend } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import { Effect, Layer, Schema } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"

/** The job the endpoint hands work to. */
const ResizeImage = Job.make("ResizeImage", {
  payload: { imageId: Schema.String, width: Schema.Int },
  queue: "images",
  timeout: "1 minute"
})

const Handlers = ResizeImage.toLayer(({ imageId, width }) =>
  Effect.sleep("20 millis").pipe(Effect.andThen(Effect.logInfo(`resized ${imageId} to ${width}px`)))
)

/** The endpoint validates the request, enqueues, and answers 202 with the job id at once. */
const Routes = HttpRouter.add(
  "POST",
  "/images/resize",
  Effect.gen(function* () {
    const body = yield* HttpServerRequest.schemaBodyJson(ResizeImage.payloadSchema)
    const { id } = yield* ResizeImage.enqueue(body)
    return yield* HttpServerResponse.json({ id }, { status: 202 })
  }).pipe(Effect.catchTag("SchemaError", (error) => HttpServerResponse.json({ error: error.message }, { status: 422 })))
)

const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index >= 0 ? process.argv[index + 1] : undefined
}
const port = Number(option("--port") ?? 3000)
const redisUrl = option("--redis") ?? process.env.REDIS_URL
const Backend =
  redisUrl === undefined || redisUrl === ""
    ? MemoryBackend.layer()
    : RedisBackend.layer({ url: redisUrl, prefix: `effect-jobs-embedded-${process.pid}` })

const App = Layer.mergeAll(
  HttpRouter.serve(Routes).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port }))),
  JobWorker.layer({ queues: ["images"], concurrency: 10, shutdownTimeout: "5 seconds" }).pipe(Layer.provide(Handlers))
).pipe(Layer.provide(JobClient.layer()), Layer.provideMerge(Backend))

Layer.launch(App).pipe(NodeRuntime.runMain)
