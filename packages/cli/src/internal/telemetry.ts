/**
 * The worker's telemetry: the job metrics as Prometheus text on `--metrics-port`, and traces,
 * metrics and logs sent over OTLP when the OpenTelemetry environment variables ask for it.
 *
 * Both load their modules (`node:http`, Effect's observability and HTTP client) only when
 * used, so a worker without them starts as quickly as before.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { type CliFailure, failed } from "../CliFailure.ts"

/** Where the metrics are served. */
export interface MetricsEndpoint {
  readonly host: string
  readonly port: number
}

/**
 * Serves `GET /metrics` (Prometheus text format 0.0.4) from the metrics of the calling fiber's
 * context until the scope closes; any other path answers 404. Fails with a message naming the
 * port when it cannot listen.
 */
export const serveMetrics = (endpoint: MetricsEndpoint): Effect.Effect<void, CliFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const [Http, PrometheusMetrics] = yield* Effect.promise(() =>
      Promise.all([import("node:http"), import("effect/observability/PrometheusMetrics")])
    )
    const context = yield* Effect.context<never>()
    const server = Http.createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0]
      if (request.method !== "GET" || path !== "/metrics") {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" })
        response.end("not found: the job metrics are at GET /metrics\n")
        return
      }
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
      response.end(PrometheusMetrics.formatUnsafe(context))
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, CliFailure>((resume) => {
        const onError = (error: NodeJS.ErrnoException) =>
          resume(
            Effect.fail(
              failed(
                `--metrics-port ${endpoint.port}: cannot listen on ${endpoint.host}:${endpoint.port} ` +
                  `(${error.code ?? error.message})${error.code === "EADDRINUSE" ? "; pick a free port" : ""}`
              )
            )
          )
        server.once("error", onError)
        server.listen(endpoint.port, endpoint.host, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    yield* Effect.logInfo(`metrics: Prometheus text at http://${endpoint.host}:${endpoint.port}/metrics`)
  })

/** Whether the environment turns on an OTLP exporter (`OTEL_{TRACES,METRICS,LOGS}_EXPORTER=otlp`). */
export const otlpRequested = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.OTEL_SDK_DISABLED !== "true" &&
  ["OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"].some((name) =>
    (env[name] ?? "")
      .split(",")
      .map((exporter) => exporter.trim().toLowerCase())
      .includes("otlp")
  )

/**
 * Effect's OTLP exporters as the OpenTelemetry environment configures them (endpoint, headers,
 * `OTEL_SERVICE_NAME`, …), sending JSON over `fetch`; an empty layer when none is requested.
 * Closing the layer flushes what is buffered.
 */
export const otlpLayer: Layer.Layer<never> = Layer.unwrap(
  Effect.gen(function* () {
    if (!otlpRequested()) return Layer.empty
    const [Otlp, OtlpSerialization, FetchHttpClient] = yield* Effect.promise(() =>
      Promise.all([
        import("effect/observability/Otlp"),
        import("effect/observability/OtlpSerialization"),
        import("effect/http/FetchHttpClient")
      ])
    )
    // Effect's resource wants a service name: `OTEL_SERVICE_NAME`, a `service.name` resource
    // attribute, or this default.
    const named =
      process.env.OTEL_SERVICE_NAME !== undefined ||
      /(^|,)\s*service\.name=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? "")
    return Otlp.layerFromConfig(named ? undefined : { resource: { serviceName: "effect-jobs-worker" } }).pipe(
      Layer.provide(Layer.merge(FetchHttpClient.layer, OtlpSerialization.layerJson))
    )
  })
)
