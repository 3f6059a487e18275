/**
 * `effect-jobs worker`: runs the handlers of a jobs module until SIGINT / SIGTERM.
 *
 * Composes the store (Redis or in-memory), the handlers' registry, a `JobClient` for
 * handlers that enqueue follow-up jobs, and the core `Worker`; logs every job's life from
 * `JobEvents`. A signal interrupts the main fiber, which closes the worker's scope: the core
 * worker goes quiet, waits up to `--shutdown-timeout` for running jobs, then interrupts the
 * rest, which go back to their queue.
 */
import { JobClient, JobEvents, JobRegistry, JobWorker } from "@effect-jobs/core"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Backend from "../Backend.ts"
import { CliFailure, failed } from "../CliFailure.ts"
import { markStopsOnSignal } from "../internal/shutdown.ts"
import * as Telemetry from "../internal/telemetry.ts"
import {
  errorMessage,
  formatMillis,
  parsePort,
  parsePositiveDuration,
  parseQueueSpec,
  parseWholeNumber
} from "../internal/values.ts"
import * as JobLog from "../JobLog.ts"
import * as JobsModule from "../JobsModule.ts"
import * as Logging from "../Logging.ts"

/** The worker's flags. */
export const flags = {
  jobs: Flag.String("jobs").pipe(
    Flag.withAlias("j"),
    Flag.withMetavar("MODULE"),
    Flag.withDescription("Module exporting the handlers (default export or `handlers`) and job definitions")
  ),
  queues: Flag.String("queue").pipe(
    Flag.withAlias("q"),
    Flag.withMetavar("NAME[:WEIGHT]"),
    Flag.withDescription("Queue to work, repeatable; weights give a weighted random order (default: default)"),
    Flag.mapTryCatch(parseQueueSpec, errorMessage),
    Flag.atLeast(0)
  ),
  strict: Flag.Boolean("strict").pipe(
    Flag.withDescription("Always try queues in the order given, ignoring weights"),
    Flag.withDefault(false)
  ),
  concurrency: Flag.Int("concurrency").pipe(
    Flag.withAlias("c"),
    Flag.withMetavar("N"),
    Flag.withDescription("Jobs run at once (default 25)"),
    Flag.mapTryCatch(parseWholeNumber(1), errorMessage),
    Flag.withDefault(25)
  ),
  shutdownTimeout: Flag.String("shutdown-timeout").pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription("How long shutdown waits for running jobs before interrupting them (default 25s)"),
    Flag.mapTryCatch(parsePositiveDuration, errorMessage),
    Flag.withDefault(25_000)
  ),
  metricsPort: Flag.Int("metrics-port").pipe(
    Flag.withMetavar("PORT"),
    Flag.withDescription("Serve the job metrics as Prometheus text at http://HOST:PORT/metrics"),
    Flag.mapTryCatch(parsePort, errorMessage),
    Flag.optional
  ),
  metricsHost: Flag.String("metrics-host").pipe(
    Flag.withMetavar("HOST"),
    Flag.withDescription("Address the metrics endpoint listens on (default 0.0.0.0: every interface)"),
    Flag.withDefault("0.0.0.0")
  )
}

/** The `worker` command. */
export const command = Command.make("worker", flags, (options) =>
  Logging.withLogging(
    Effect.gen(function* () {
      const module = yield* JobsModule.load(options.jobs)
      const registry = yield* JobsModule.handlers(module)
      const target = yield* Backend.target
      const queues = options.queues.length === 0 ? [{ name: "default", weight: undefined }] : options.queues
      const workerOptions: JobWorker.WorkerOptions = {
        queues: queues.map(({ name, weight }) => [name, weight ?? 1] as const),
        strict: options.strict || queues.every(({ weight }) => weight === undefined),
        concurrency: options.concurrency,
        shutdownTimeout: options.shutdownTimeout
      }
      yield* markStopsOnSignal
      if (target._tag === "Memory") {
        yield* Effect.logWarning(
          "no --redis or REDIS_URL: running on the in-memory store. Jobs live in this process only, " +
            "are lost when it exits, and no other process (enqueue, stats) can see them"
        )
      }

      const run = Effect.gen(function* () {
        yield* JobLog.start({ annotate: (yield* Logging.format) === "json" })
        // Before the worker: a port that is taken stops the start, not a running worker.
        if (Option.isSome(options.metricsPort)) {
          yield* Telemetry.serveMetrics({ host: options.metricsHost, port: options.metricsPort.value })
        }
        const worker = yield* JobWorker.make(workerOptions).pipe(
          Effect.mapError((error) => failed(`worker: ${error.message}`))
        )
        const info = yield* worker.info
        const names = yield* JobRegistry.names
        yield* Effect.logInfo(
          `worker ${worker.id} started: ${names.length > 5 ? `${names.length} jobs` : names.join(", ")} on ` +
            `${info.queues.map((q) => (info.strict ? q.name : `${q.name}(${q.weight})`)).join(", ")}` +
            `${info.strict && info.queues.length > 1 ? " (strict order)" : ""}, concurrency ${info.concurrency}, ` +
            `store: ${Backend.describe(target)}`
        )
        return yield* Effect.never.pipe(
          Effect.onInterrupt(() =>
            Effect.logInfo(
              `stopping: no new jobs; waiting up to ${formatMillis(options.shutdownTimeout)} for running ones`
            )
          )
        )
      }).pipe(Effect.scoped, Effect.ensuring(Effect.logInfo("worker stopped")))

      const services = registry.pipe(
        Layer.provideMerge(JobClient.layer()),
        Layer.provideMerge(Layer.merge(Backend.layer(target, { worker: true }), JobEvents.layer)),
        // Spans and metrics of everything above go to the OTLP exporters, when requested.
        Layer.provideMerge(Telemetry.otlpLayer)
      )
      return yield* Effect.provide(run, services).pipe(
        Effect.mapError((error) =>
          error instanceof CliFailure
            ? error
            : failed(`--jobs ${module.path}: building the handlers failed: ${describeError(error)}`)
        )
      )
    })
  )
).pipe(
  Command.withDescription("Run the handlers of a jobs module until SIGINT / SIGTERM, then shut down gracefully"),
  Command.withExamples([
    { command: "effect-jobs worker --jobs ./src/jobs.ts", description: "Work the default queue in memory" },
    {
      command: "effect-jobs worker --jobs ./src/jobs.ts --redis redis://127.0.0.1:6379 -q urgent:10 -q default:1 -c 25",
      description: "Weighted queues on Redis, 25 jobs at once"
    },
    {
      command: "effect-jobs worker --jobs ./src/jobs.ts --redis redis://127.0.0.1:6379 --metrics-port 9464",
      description: "Also serve Prometheus metrics at http://0.0.0.0:9464/metrics"
    }
  ])
)

const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "object" ? JSON.stringify(error) : String(error)
