/**
 * Whether being interrupted (SIGINT / SIGTERM) is how the running command ends normally.
 *
 * A worker or `stats --watch` runs until it is told to stop; when it then shuts down
 * cleanly the process exits 0. Any other command interrupted half-way exits 130.
 */
import * as Effect from "effect/Effect"

let stopsOnSignal = false

/** Marks the running command as one that stops on a signal. */
export const markStopsOnSignal: Effect.Effect<void> = Effect.sync(() => {
  stopsOnSignal = true
})

/** Read by `bin.ts` when the process ends. */
export const interruptIsSuccess = (): boolean => stopsOnSignal
