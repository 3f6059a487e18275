/**
 * A signal that fires many times: `next` completes at the signal's next `fire`, never at an
 * earlier one. Waiters that lose interest (a race lost) are simply dropped with their Deferred.
 */
import { Deferred, Effect } from "effect"

export interface Signal {
  /** Completes at the next `fire` after this call. */
  readonly next: () => Effect.Effect<void>
  /** Completes every `next` taken so far. */
  readonly fire: () => void
}

export const make = (): Signal => {
  let current = Deferred.makeUnsafe<void>()
  return {
    next: () => Deferred.await(current),
    fire: () => {
      const fired = current
      current = Deferred.makeUnsafe<void>()
      Deferred.doneUnsafe(fired, Effect.void)
    }
  }
}
