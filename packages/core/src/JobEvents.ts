/**
 * Lifecycle events: what happened to which job, as it happens.
 *
 * Provide `JobEvents.layer` next to the client and worker and subscribe to
 * `JobEvents.stream` (a `Stream`) to log, trace, update a UI or assert in tests. Without
 * the layer nothing is published and nothing is paid.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { AttemptError } from "./JobRecord.ts"
import type { EnqueueOutcome } from "./QueueStore.ts"

interface JobRef {
  readonly id: string
  readonly name: string
  readonly queue: string
}

/** A job was written (or found to exist already: `outcome: "duplicate"`). */
export interface Enqueued extends JobRef {
  readonly _tag: "Enqueued"
  readonly outcome: EnqueueOutcome
}
/** A worker started an attempt. */
export interface Started extends JobRef {
  readonly _tag: "Started"
  readonly attempt: number
}
/** An attempt succeeded. */
export interface Succeeded extends JobRef {
  readonly _tag: "Succeeded"
  readonly attempt: number
  readonly durationMillis: number
}
/** An attempt failed; `Retried` or `Dead` follows. */
export interface Failed extends JobRef {
  readonly _tag: "Failed"
  readonly attempt: number
  readonly error: AttemptError
}
/** The job waits in the retry set; `counted: false` for `RetryIn`. */
export interface Retried extends JobRef {
  readonly _tag: "Retried"
  readonly attempt: number
  readonly delayMillis: number
  readonly counted: boolean
}
/** The job went to the dead set. */
export interface Dead extends JobRef {
  readonly _tag: "Dead"
  readonly attempt: number
  readonly reason: string
}
/** The handler discarded the job. */
export interface Discarded extends JobRef {
  readonly _tag: "Discarded"
  readonly attempt: number
}
/** The run was interrupted (shutdown, lost lease) and the job went back to its queue. */
export interface Requeued extends JobRef {
  readonly _tag: "Requeued"
  readonly attempt: number
}

/** Any lifecycle event. */
export type JobEvent = Enqueued | Started | Succeeded | Failed | Retried | Dead | Discarded | Requeued

/** The event bus. */
export class JobEvents extends Context.Service<
  JobEvents,
  {
    readonly publish: (event: JobEvent) => Effect.Effect<void>
    /** `publish` from synchronous code (the worker's hot path). */
    readonly publishUnsafe: (event: JobEvent) => void
    /** A subscription that lives as long as the scope. */
    readonly subscribe: Effect.Effect<PubSub.Subscription<JobEvent>, never, Scope.Scope>
    /** Every event published after the stream starts. */
    readonly stream: Stream.Stream<JobEvent>
  }
>()("@effect-jobs/core/JobEvents") {}

/** An in-process bus; a slow subscriber loses its oldest events past 4,096 rather than grow. */
export const layer: Layer.Layer<JobEvents> = Layer.effect(
  JobEvents,
  Effect.gen(function* () {
    const pubsub = yield* PubSub.sliding<JobEvent>(4096)
    return JobEvents.of({
      publish: (event) => Effect.asVoid(PubSub.publish(pubsub, event)),
      publishUnsafe: (event) => void PubSub.publishUnsafe(pubsub, event),
      subscribe: PubSub.subscribe(pubsub),
      stream: Stream.fromPubSub(pubsub)
    })
  })
)

/**
 * The synchronous publisher, or `undefined` when no `JobEvents` layer is provided: callers
 * then skip building events at all.
 */
export const emitter: Effect.Effect<((event: JobEvent) => void) | undefined> = Effect.map(
  Effect.serviceOption(JobEvents),
  (events) => (events._tag === "Some" ? events.value.publishUnsafe : undefined)
)

/**
 * Every event published after the stream starts (needs `JobEvents.layer`).
 *
 * ```ts
 * yield* JobEvents.stream.pipe(Stream.runForEach((event) => Effect.log(event._tag, event.id)), Effect.forkScoped)
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const stream: Stream.Stream<JobEvent, never, JobEvents> = Stream.unwrap(
  Effect.map(JobEvents, (events) => events.stream)
)
