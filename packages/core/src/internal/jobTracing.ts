/**
 * A job's spans: the trace context carried from the enqueuing span to the worker, and the
 * spans a worker opens for it.
 *
 * The client stores the enqueuing span's W3C `traceparent` with the job (`NewJob.trace`); the
 * worker opens, under that span, a `JobWorker.claim` span (the claim call that leased the job),
 * a `JobWorker.run` span around the handler (the handler's own spans nest under it), and a
 * `JobWorker.settle` span for its settlement, child of the run. Every span carries the job's
 * name, queue, id and attempt.
 *
 * All of this happens only when a tracer is installed: with Effect's default native tracer,
 * which exports nothing, no span is made and no trace context is stored, so a worker or client
 * without tracing pays one context lookup per job.
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** The tracer a fiber's spans go to, or `undefined` when none that exports is installed. */
export const installedTracer = (fiber: Fiber.Fiber<unknown, unknown>): Tracer.Tracer | undefined => {
  // The fiber's cache holds the tracer only when one was provided, and is read on every job's
  // path: two property reads, where looking the references up in the context costs two searches.
  const { tracer, tracerEnabled } = fiber.cache
  return tracer === undefined || tracer === Tracer.nativeTracer || !tracerEnabled ? undefined : tracer
}

const hex32 = /^[0-9a-f]{32}$/
const hex16 = /^[0-9a-f]{16}$/
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const zeroTrace = "0".repeat(32)
const zeroSpan = "0".repeat(16)
const exitVoid = Exit.void

/** The longest trace context a store is asked to keep: a version-00 `traceparent`. */
export const maxTraceLength = 55

/**
 * A span's W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), or `undefined` when its ids
 * are not W3C ids (a tracer of its own making): nothing unbounded or unreadable is stored.
 */
export const toTraceparent = (span: Tracer.AnySpan): string | undefined => {
  const traceId = span.traceId.length < 32 ? span.traceId.padStart(32, "0") : span.traceId
  if (!hex32.test(traceId) || !hex16.test(span.spanId) || traceId === zeroTrace || span.spanId === zeroSpan) {
    return undefined
  }
  return `00-${traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
}

/** The span a stored `traceparent` names, or `undefined` when there is none or it is malformed. */
export const fromTraceparent = (text: string | undefined): Tracer.ExternalSpan | undefined => {
  if (text === undefined) return undefined
  const match = traceparentPattern.exec(text)
  if (match === null || match[1] === zeroTrace || match[2] === zeroSpan) return undefined
  return Tracer.externalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1
  })
}

/** What a span says about its job. */
export interface JobRef {
  readonly id: string
  readonly name: string
  readonly queue: string
  readonly attempt?: number | undefined
}

/**
 * The job's span attributes: `job.*` for people, and OpenTelemetry's messaging conventions
 * (`messaging.*`) for tools that group consumer and producer spans by queue.
 */
export const attributes = (job: JobRef, operation: string): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "job.name": job.name,
    "job.queue": job.queue,
    "job.id": job.id,
    "messaging.system": "effect-jobs",
    "messaging.operation.name": operation,
    "messaging.destination.name": job.queue,
    "messaging.message.id": job.id
  }
  if (job.attempt !== undefined) attributes["job.attempt"] = job.attempt
  return attributes
}

/**
 * Opens a span on `tracer` under `parent` (a root span when there is none). The worker's
 * spans start at times of their own (a claim began before its jobs were known), so they are
 * made here rather than through `Effect.withSpan`.
 */
export const startSpan = (
  tracer: Tracer.Tracer,
  options: {
    readonly name: string
    readonly parent: Tracer.AnySpan | undefined
    readonly kind: Tracer.SpanKind
    readonly startTime: bigint
    readonly attributes: Record<string, unknown>
  }
): Tracer.Span => {
  const { parent } = options
  const span = tracer.span({
    name: options.name,
    parent: parent === undefined ? Option.none() : Option.some(parent),
    annotations: Context.empty(),
    links: [],
    startTime: options.startTime,
    kind: options.kind,
    root: parent === undefined,
    sampled: parent === undefined ? true : parent.sampled
  })
  for (const key in options.attributes) span.attribute(key, options.attributes[key])
  return span
}

/** Ends a span unless it has ended already. */
export const endSpan = (span: Tracer.Span, endTime: bigint, exit: Exit.Exit<unknown, unknown>): void => {
  if (span.status._tag !== "Ended") span.end(endTime, exit)
}

/**
 * The worker's spans of one claimed job. Made only when a tracer is installed; the claim span
 * is opened and ended on creation, the run and settle spans as the job gets there.
 */
export class JobSpans {
  /** The run's span once the handler has started. */
  private runSpan: Tracer.Span | undefined = undefined
  private readonly tracer: Tracer.Tracer
  private readonly clock: Clock.Clock
  private readonly job: JobRef
  /** The enqueuing span, from the job's stored trace context. */
  private readonly parent: Tracer.AnySpan | undefined

  constructor(
    tracer: Tracer.Tracer,
    clock: Clock.Clock,
    job: JobRef & { readonly trace?: string | undefined },
    claimStartedNanos: bigint | undefined
  ) {
    this.tracer = tracer
    this.clock = clock
    this.job = { id: job.id, name: job.name, queue: job.queue, attempt: job.attempt }
    this.parent = fromTraceparent(job.trace)
    const now = clock.currentTimeNanosUnsafe()
    const claim = this.start("JobWorker.claim", this.parent, "consumer", "receive", claimStartedNanos ?? now)
    endSpan(claim, now, exitVoid)
  }

  private start(
    name: string,
    parent: Tracer.AnySpan | undefined,
    kind: Tracer.SpanKind,
    operation: string,
    startTime: bigint
  ) {
    return startSpan(this.tracer, { name, parent, kind, startTime, attributes: attributes(this.job, operation) })
  }

  /** Opens the run's span: the parent of whatever the handler traces. */
  startRun(): Tracer.Span {
    this.runSpan = this.start("JobWorker.run", this.parent, "consumer", "process", this.clock.currentTimeNanosUnsafe())
    return this.runSpan
  }

  /** Ends the run's span with the handler's exit. */
  endRun(exit: Exit.Exit<unknown, unknown>): void {
    if (this.runSpan !== undefined) endSpan(this.runSpan, this.clock.currentTimeNanosUnsafe(), exit)
  }

  /** Opens a settlement's span, under the run's (or the enqueuer's, for a job that never ran). */
  startSettle(): Tracer.Span {
    return this.start(
      "JobWorker.settle",
      this.runSpan ?? this.parent,
      "internal",
      "settle",
      this.clock.currentTimeNanosUnsafe()
    )
  }

  /** Ends a settlement's span, saying what became of the job. */
  endSettle(span: Tracer.Span, outcome: string): void {
    span.attribute("job.outcome", outcome)
    endSpan(span, this.clock.currentTimeNanosUnsafe(), exitVoid)
  }

  /** Runs a settlement under a span of its own (a new one unless `span` is given). */
  settling<A extends string, E, R>(effect: Effect.Effect<A, E, R>, span?: Tracer.Span): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      const settleSpan = span ?? this.startSettle()
      return Effect.onExit(effect, (exit) =>
        Effect.sync(() => {
          if (exit._tag === "Success") this.endSettle(settleSpan, exit.value)
          else endSpan(settleSpan, this.clock.currentTimeNanosUnsafe(), exit)
        })
      )
    })
  }
}
