import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema, type Tracer } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import { TestClock } from "effect/testing"
import { Job, JobRegistry, QueueStore } from "../src/index.ts"
import { recordingTracer } from "./conformance/recordingTracer.ts"
import { jobsLayer, settle, startWorker } from "./helpers.ts"

class MailerDown extends Schema.TaggedError<MailerDown>()("MailerDown", { message: Schema.String }) {}

const Greet = Job.make("Greet", {
  payload: { to: Schema.String },
  error: MailerDown,
  queue: "mail",
  retry: 2
})

const parentId = (span: Tracer.Span) => Option.getOrUndefined(span.parent)?.spanId

const get = (id: string) =>
  QueueStore.QueueStore.use((store) => Effect.map(store.get(id), (found) => Option.getOrUndefined(found)))

describe("tracing", () => {
  it.effect("runs a job under the span that enqueued it: claim, run and settle, with the job's attributes", () => {
    const { named, tracer } = recordingTracer()
    const handlers = JobRegistry.add(Greet.handle(({ to }) => Effect.withSpan(Effect.log(`hi ${to}`), "send-mail")))
    return Effect.gen(function* () {
      const { id } = yield* Greet.enqueue({ to: "ada" }).pipe(Effect.withSpan("POST /signup"))
      yield* startWorker({ queues: ["mail"], concurrency: 2 })
      yield* settle
      yield* TestClock.adjust("1 second")

      const [request] = named("POST /signup")
      const [enqueue] = named("JobClient.enqueue")
      const [claim] = named("JobWorker.claim")
      const [run] = named("JobWorker.run")
      const [settleSpan] = named("JobWorker.settle")
      const [handler] = named("send-mail")
      assert.isDefined(request)
      assert.isDefined(enqueue)
      assert.isDefined(claim)
      assert.isDefined(run)
      assert.isDefined(settleSpan)
      assert.isDefined(handler)
      // One trace, from the request to the handler's own span.
      for (const span of [enqueue!, claim!, run!, settleSpan!, handler!]) {
        assert.strictEqual(span.traceId, request!.traceId, span.name)
        assert.strictEqual(span.status._tag, "Ended", span.name)
      }
      assert.strictEqual(parentId(enqueue!), request!.spanId)
      assert.strictEqual(parentId(claim!), enqueue!.spanId)
      assert.strictEqual(parentId(run!), enqueue!.spanId)
      assert.strictEqual(parentId(settleSpan!), run!.spanId)
      assert.strictEqual(parentId(handler!), run!.spanId)
      assert.strictEqual(enqueue!.kind, "producer")
      assert.strictEqual(run!.kind, "consumer")
      for (const span of [enqueue!, claim!, run!, settleSpan!]) {
        assert.strictEqual(span.attributes.get("job.name"), "Greet", span.name)
        assert.strictEqual(span.attributes.get("job.queue"), "mail", span.name)
        assert.strictEqual(span.attributes.get("job.id"), id, span.name)
      }
      assert.strictEqual(run!.attributes.get("job.attempt"), 1)
      assert.strictEqual(enqueue!.attributes.get("job.outcome"), "enqueued")
      assert.strictEqual(settleSpan!.attributes.get("job.outcome"), "succeeded")
    }).pipe(Effect.provide(jobsLayer(handlers)), Effect.withTracer(tracer))
  })

  it.effect("ends a failed run's span with the failure and gives each attempt its own run and settle spans", () => {
    const { named, tracer } = recordingTracer()
    let runs = 0
    const handlers = JobRegistry.add(
      Greet.handle(() => {
        runs++
        return runs === 1 ? Effect.fail(new MailerDown({ message: "smtp timeout" })) : Effect.void
      })
    )
    return Effect.gen(function* () {
      yield* Greet.enqueue({ to: "ada" }).pipe(Effect.withSpan("request"))
      yield* startWorker({ queues: ["mail"], concurrency: 1 })
      yield* settle
      for (let i = 0; i < 60 && runs < 2; i++) yield* TestClock.adjust("1 second")
      yield* settle
      assert.strictEqual(runs, 2)

      const [enqueue] = named("JobClient.enqueue")
      const runSpans = named("JobWorker.run")
      const settles = named("JobWorker.settle")
      assert.deepStrictEqual(
        runSpans.map((span) => span.attributes.get("job.attempt")),
        [1, 2]
      )
      for (const span of runSpans) assert.strictEqual(parentId(span), enqueue!.spanId)
      const [first, second] = runSpans
      assert.isTrue(first!.status._tag === "Ended" && first!.status.exit._tag === "Failure")
      assert.isTrue(second!.status._tag === "Ended" && second!.status.exit._tag === "Success")
      assert.deepStrictEqual(
        settles.map((span) => [parentId(span), span.attributes.get("job.outcome")]),
        [
          [first!.spanId, "retried"],
          [second!.spanId, "succeeded"]
        ]
      )
    }).pipe(Effect.provide(jobsLayer(handlers)), Effect.withTracer(tracer))
  })

  it.effect("settles a job no handler knows under the enqueuing span", () => {
    const { named, tracer } = recordingTracer()
    const Orphan = Job.make("Orphan", { payload: {} })
    return Effect.gen(function* () {
      const { id } = yield* Orphan.enqueue({})
      yield* startWorker({ queues: ["default"] })
      yield* settle
      const [enqueue] = named("JobClient.enqueue")
      const [settleSpan] = named("JobWorker.settle")
      assert.strictEqual(named("JobWorker.run").length, 0)
      assert.strictEqual(parentId(settleSpan!), enqueue!.spanId)
      assert.strictEqual(settleSpan!.attributes.get("job.outcome"), "dead")
      assert.strictEqual((yield* get(id))?.state, "dead")
    }).pipe(Effect.provide(jobsLayer(JobRegistry.add(Greet.handle(() => Effect.void)))), Effect.withTracer(tracer))
  })

  it.effect("stores the enqueuing span's traceparent with the job, and nothing when no tracer is installed", () => {
    const { named, tracer } = recordingTracer()
    return Effect.gen(function* () {
      // Effect's default tracer exports nothing: no span is made and nothing is stored.
      const plain = yield* Greet.enqueue({ to: "a" }).pipe(Effect.withSpan("untraced request"))
      assert.isUndefined((yield* get(plain.id))?.trace)

      const traced = yield* Greet.enqueue({ to: "b" }).pipe(Effect.withTracer(tracer))
      const [enqueue] = named("JobClient.enqueue")
      assert.strictEqual((yield* get(traced.id))?.trace, `00-${enqueue!.traceId}-${enqueue!.spanId}-01`)

      const many = yield* Greet.enqueueMany([{ to: "c" }, { to: "d" }]).pipe(Effect.withTracer(tracer))
      const [batch] = named("JobClient.enqueueMany")
      assert.strictEqual(batch!.attributes.get("job.count"), 2)
      for (const { id } of many) {
        assert.strictEqual((yield* get(id))?.trace, `00-${batch!.traceId}-${batch!.spanId}-01`)
      }
    }).pipe(Effect.provide(jobsLayer(JobRegistry.add(Greet.handle(() => Effect.void)))))
  })

  it.effect("exports the job's spans through Effect's OTLP tracer as one trace", () => {
    const bodies: Array<unknown> = []
    const collector = HttpClient.make((request) => {
      if (request.body._tag === "Uint8Array") bodies.push(JSON.parse(new TextDecoder().decode(request.body.body)))
      return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(null, { status: 200 })))
    })
    const otlp = OtlpTracer.layer({ url: "http://collector.test/v1/traces", resource: { serviceName: "mailer" } }).pipe(
      Layer.provide(Layer.succeed(HttpClient.HttpClient, collector)),
      Layer.provide(OtlpSerialization.layerJson)
    )
    const handlers = JobRegistry.add(Greet.handle(() => Effect.void))
    return Effect.gen(function* () {
      const { id } = yield* Effect.scoped(
        Effect.gen(function* () {
          const result = yield* Greet.enqueue({ to: "ada" }).pipe(Effect.withSpan("POST /signup"))
          const worker = yield* startWorker({ queues: ["mail"], concurrency: 1 })
          yield* settle
          yield* worker.stop
          return result
        }).pipe(Effect.provide(otlp))
      )
      type Exported = {
        readonly name: string
        readonly traceId: string
        readonly spanId: string
        readonly parentSpanId?: string
        readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
      }
      const spans = bodies.flatMap(
        (body) =>
          (
            body as {
              resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Exported> }> }>
            }
          ).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)) as Array<Exported>
      )
      const byName = new Map(spans.map((span) => [span.name, span]))
      const attribute = (span: Exported | undefined, key: string) =>
        span?.attributes.find((entry) => entry.key === key)?.value
      const request = byName.get("POST /signup")!
      const enqueue = byName.get("JobClient.enqueue")!
      const run = byName.get("JobWorker.run")!
      assert.strictEqual(enqueue.parentSpanId, request.spanId)
      assert.strictEqual(byName.get("JobWorker.claim")?.parentSpanId, enqueue.spanId)
      assert.strictEqual(run.parentSpanId, enqueue.spanId)
      assert.strictEqual(byName.get("JobWorker.settle")?.parentSpanId, run.spanId)
      for (const span of spans) assert.strictEqual(span.traceId, request.traceId, span.name)
      assert.deepStrictEqual(attribute(run, "job.id"), { stringValue: id })
      assert.deepStrictEqual(attribute(run, "job.attempt"), { intValue: 1 })
    }).pipe(Effect.provide(jobsLayer(handlers)))
  })
})
