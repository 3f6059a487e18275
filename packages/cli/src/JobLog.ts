/**
 * Job lifecycle as log lines: every start and end at debug, discards and re-queues at info.
 * Failures are logged at warn by the core processor itself (with the retry delay or the
 * dead-set reason), so they are not repeated here. With `annotate` (JSON logs) each line also carries
 * the job's id, name, queue and attempt as fields, so logs can be filtered by job.
 */
import { JobEvents } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import { formatMillis } from "./internal/values.ts"

const line = (event: JobEvents.JobEvent): Effect.Effect<void> => {
  const who = `${event.name} ${event.id}`
  switch (event._tag) {
    case "Enqueued":
      return Effect.void
    case "Started":
      return Effect.logDebug(`${who} started on ${event.queue} (attempt ${event.attempt})`)
    case "Succeeded":
      return Effect.logDebug(`${who} done in ${formatMillis(event.durationMillis)}`)
    case "Failed":
    case "Dead":
      return Effect.void
    case "Retried":
      // Counted retries are logged at warn by the processor; `RetryIn` is not a failure.
      return event.counted
        ? Effect.void
        : Effect.logInfo(`${who} asked to run again in ${formatMillis(event.delayMillis)}`)
    case "Discarded":
      return Effect.logInfo(`${who} discarded by its handler`)
    case "Requeued":
      return Effect.logInfo(`${who} interrupted; back at the head of ${event.queue}`)
  }
}

const annotate = (event: JobEvents.JobEvent, effect: Effect.Effect<void>) =>
  Effect.annotateLogs(effect, {
    jobId: event.id,
    job: event.name,
    queue: event.queue,
    ...("attempt" in event ? { attempt: event.attempt } : {}),
    event: event._tag
  })

/**
 * Subscribes now (so no event of a worker started afterwards is missed) and logs events on
 * a fiber that lives as long as the scope.
 */
export const start = (options: {
  readonly annotate: boolean
}): Effect.Effect<void, never, JobEvents.JobEvents | Scope.Scope> =>
  Effect.gen(function* () {
    const events = yield* JobEvents.JobEvents
    const subscription = yield* events.subscribe
    const log = options.annotate ? (event: JobEvents.JobEvent) => annotate(event, line(event)) : line
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(PubSub.take(subscription), log)))
  })
