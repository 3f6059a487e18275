import * as Http from "node:http"
import type * as Net from "node:net"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { fixtures, killAll, start } from "./helpers/cli.ts"

afterAll(killAll)

/** A server on a free loopback port; `close` stops it. */
const listen = (handler: Http.RequestListener = (_, response) => response.end()) =>
  new Promise<{ readonly port: number; readonly close: () => Promise<void> }>((resolve, reject) => {
    const server = Http.createServer(handler)
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as Net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    )
  })

const freePort = async () => {
  const server = await listen()
  await server.close()
  return server.port
}

const bothGreeted = /Greet \S+ done in[\s\S]*Greet \S+ done in/

describe("worker telemetry", () => {
  it("serves the job metrics as Prometheus text on --metrics-port", async () => {
    const port = await freePort()
    const worker = start([
      "worker",
      "--jobs",
      fixtures.seeded,
      "--metrics-port",
      String(port),
      "--metrics-host",
      "127.0.0.1",
      "--log-level",
      "debug"
    ])
    await worker.waitFor(bothGreeted)
    const response = await fetch(`http://127.0.0.1:${port}/metrics`)
    const text = await response.text()
    const elsewhere = await fetch(`http://127.0.0.1:${port}/`)
    worker.kill("SIGTERM")
    const result = await worker.exit
    assert.strictEqual(result.code, 0)
    assert.strictEqual(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    assert.include(
      text,
      "# HELP effect_jobs_processed_total Jobs completed\n# TYPE effect_jobs_processed_total counter"
    )
    assert.match(text, /^effect_jobs_processed_total\{job="Greet",queue="default"\} 2$/m)
    assert.match(text, /^effect_jobs_enqueued_total\{job="Greet",queue="default"\} 2$/m)
    assert.match(text, /^effect_jobs_run_duration_bucket\{job="Greet",queue="default",le="\+Inf"\} 2$/m)
    assert.match(text, /^effect_jobs_queue_latency_count\{job="Greet",queue="default"\} 2$/m)
    assert.strictEqual(elsewhere.status, 404)
    assert.match(result.stderr, new RegExp(`metrics: Prometheus text at http://127\\.0\\.0\\.1:${port}/metrics`))
  })

  it("stops with a message naming the port when --metrics-port is taken", async () => {
    const taken = await listen()
    try {
      const worker = start([
        "worker",
        "--jobs",
        fixtures.seeded,
        "--metrics-port",
        String(taken.port),
        "--metrics-host",
        "127.0.0.1"
      ])
      const result = await worker.exit
      assert.strictEqual(result.code, 1)
      assert.include(
        result.stderr,
        `--metrics-port ${taken.port}: cannot listen on 127.0.0.1:${taken.port} (EADDRINUSE); pick a free port`
      )
      assert.notMatch(result.stderr, /hello Ada/)
    } finally {
      await taken.close()
    }
  })

  it("refuses a port number out of range", async () => {
    const result = await start(["worker", "--jobs", fixtures.seeded, "--metrics-port", "70000"]).exit
    assert.strictEqual(result.code, 2)
    assert.include(result.stdout + result.stderr, "a port number from 1 to 65535, got 70000")
  })

  it("exports each job's spans (under the span that enqueued it) and the job metrics over OTLP when asked", async () => {
    type Span = {
      readonly name: string
      readonly traceId: string
      readonly spanId: string
      readonly parentSpanId?: string
      readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }>
    }
    const spans: Array<Span> = []
    const metrics: Array<{ readonly name: string; readonly sum?: { readonly dataPoints: ReadonlyArray<any> } }> = []
    const collector = await listen((request, response) => {
      let body = ""
      request.on("data", (chunk) => {
        body += chunk
      })
      request.on("end", () => {
        if (request.url === "/v1/metrics") {
          const data = JSON.parse(body) as {
            resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<(typeof metrics)[number]> }> }>
          }
          for (const resource of data.resourceMetrics)
            for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) metrics.push(metric)
        }
        if (request.url === "/v1/traces") {
          const data = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Span> }> }> }
          for (const resource of data.resourceSpans)
            for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push(span)
        }
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
    })
    try {
      const worker = start(["worker", "--jobs", fixtures.seeded, "--log-level", "debug"], {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_METRICS_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        OTEL_SERVICE_NAME: "greeter"
      })
      await worker.waitFor(bothGreeted)
      worker.kill("SIGTERM")
      const result = await worker.exit
      assert.strictEqual(result.code, 0)
      const attribute = (span: Span, key: string) => span.attributes.find((entry) => entry.key === key)?.value
      const named = (name: string) => spans.filter((span) => span.name === name)
      const enqueues = named("JobClient.enqueue")
      const runs = named("JobWorker.run")
      assert.strictEqual(enqueues.length, 2)
      assert.strictEqual(runs.length, 2)
      for (const run of runs) {
        assert.deepStrictEqual(attribute(run, "job.name"), { stringValue: "Greet" })
        const enqueue = enqueues.find((span) => span.spanId === run.parentSpanId)
        assert.isDefined(enqueue, "the run's parent is an enqueue span")
        assert.strictEqual(run.traceId, enqueue!.traceId)
        assert.deepStrictEqual(attribute(run, "job.id"), attribute(enqueue!, "job.id"))
        const settle = named("JobWorker.settle").find((span) => span.parentSpanId === run.spanId)
        assert.deepStrictEqual(settle && attribute(settle, "job.outcome"), { stringValue: "succeeded" })
      }
      // The last export (at shutdown) carries the totals.
      const processed = metrics.filter((metric) => metric.name === "effect_jobs_processed_total").at(-1)
      const points = processed?.sum?.dataPoints ?? []
      assert.deepStrictEqual(
        points.map((point) => [
          Number(point.asInt ?? point.asDouble),
          point.attributes.find((a: { key: string }) => a.key === "job")?.value
        ]),
        [[2, { stringValue: "Greet" }]]
      )
    } finally {
      await collector.close()
    }
  })
})
