/**
 * Wake-ups for idle workers: one pub/sub channel per queue, one subscriber connection per
 * process (the `IoRedis` one).
 *
 * Scripts `PUBLISH` on `<prefix>:{<queue>}:wake` whenever they make work ready or may move the
 * next due time (enqueue, retry, requeue, reap, promote, resume, retryNow). A waiter
 * registers before it inspects the queues, so a message published between the inspection
 * and the wait still wakes it. When the subscriber reconnects, messages may have been lost,
 * so every waiter is woken to look again.
 */
import { QueueStore } from "@effect-jobs/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { IoRedis } from "../IoRedis.ts"

/** Listens on queue channels and wakes the waiters of a queue. */
export interface Wakeups {
  /** Subscribes to the queue's channel for the life of the store (once per queue). */
  readonly listen: (queue: string, channel: string) => Effect.Effect<void, QueueStore.QueueStoreError>
  /** Calls `wake` on any message for these queues or a reconnect until the returned function is called. */
  readonly register: (queues: ReadonlyArray<string>, wake: () => void) => () => void
  /** Whether the queue's channel is subscribed now: a message published from here on is seen. */
  readonly listening: (queue: string) => boolean
  /** A mark of what has been seen so far, for `changedSince`. */
  readonly mark: () => number
  /** Whether a message for the queue (or a reconnect) arrived after `mark` was taken. */
  readonly changedSince: (queue: string, mark: number) => boolean
}

/** Builds the wake-ups over `io`, subscriptions owned by `scope`. */
export const make = (io: IoRedis["Service"], scope: Scope.Scope): Wakeups => {
  const waiters = new Map<string, Set<() => void>>()
  const listening = new Map<string, Deferred.Deferred<void, QueueStore.QueueStoreError>>()
  const subscribed = new Set<string>()
  // Every message and reconnect takes the next number; a queue remembers its latest.
  let seen = 0
  let lastReconnect = 0
  const lastMessage = new Map<string, number>()

  const wakeQueue = (queue: string) => {
    lastMessage.set(queue, ++seen)
    const set = waiters.get(queue)
    if (set !== undefined) for (const wake of [...set]) wake()
  }
  const wakeAll = () => {
    lastReconnect = ++seen
    for (const queue of waiters.keys()) wakeQueue(queue)
  }

  const listen = (queue: string, channel: string) =>
    Effect.suspend(() => {
      const existing = listening.get(queue)
      if (existing !== undefined) return Deferred.await(existing)
      const done = Deferred.makeUnsafe<void, QueueStore.QueueStoreError>()
      listening.set(queue, done)
      // Each attempt gets its own scope, closed when it fails, so failed attempts leave no listener.
      return Effect.flatMap(Scope.fork(scope), (attempt) =>
        io
          .subscribe(channel, (message) => (message === undefined ? wakeAll() : wakeQueue(queue)))
          .pipe(
            Scope.provide(attempt),
            Effect.mapError(
              (error) =>
                new QueueStore.QueueStoreError({
                  message: `listening for work on ${queue} failed: ${error.message}`,
                  retryable: error._tag === "RedisUnavailable",
                  cause: error
                })
            ),
            Effect.onExit((exit) =>
              Effect.suspend(() => {
                Deferred.doneUnsafe(done, exit)
                if (Exit.isSuccess(exit)) {
                  subscribed.add(queue)
                  return Effect.void
                }
                listening.delete(queue)
                return Scope.close(attempt, exit)
              })
            )
          )
      )
    })

  const register = (queues: ReadonlyArray<string>, wake: () => void) => {
    for (const queue of queues) {
      let set = waiters.get(queue)
      if (set === undefined) {
        set = new Set()
        waiters.set(queue, set)
      }
      set.add(wake)
    }
    return () => {
      for (const queue of queues) {
        const set = waiters.get(queue)
        set?.delete(wake)
        if (set?.size === 0) waiters.delete(queue)
      }
    }
  }

  return {
    listen,
    register,
    listening: (queue) => subscribed.has(queue),
    mark: () => seen,
    changedSince: (queue, mark) => lastReconnect > mark || (lastMessage.get(queue) ?? 0) > mark
  }
}
