/**
 * A signal that fires many times: `next` completes at the signal's next `fire`, never at an
 * earlier one. Waiters that lose interest (a race lost) are simply dropped with their Deferred.
 * The Deferred is made only when someone waits: the worker fires on every job, mostly unheard.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"

export interface Signal {
  /** Completes at the next `fire` after this call. */
  readonly next: () => Effect.Effect<void>
  /** Completes every `next` taken so far. */
  readonly fire: () => void
}

export const make = (): Signal => {
  let current: Deferred.Deferred<void> | undefined
  return {
    next: () => Deferred.await((current ??= Deferred.makeUnsafe<void>())),
    fire: () => {
      if (current === undefined) return
      const fired = current
      current = undefined
      Deferred.doneUnsafe(fired, Effect.void)
    }
  }
}
