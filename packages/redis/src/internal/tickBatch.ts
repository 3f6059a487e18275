/**
 * Coalesces store calls made in the same tick: each caller adds its input and waits; the
 * first input of a tick schedules a flush after the current microtasks, which sends one call
 * per queue (per chunk) with every input added meanwhile. Concurrent jobs finishing together
 * (acks, retries) thus cost one script call instead of one each.
 */
import type { QueueStore } from "@effect-jobs/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { chunks } from "./storeContext.ts"

type QueueStoreError = QueueStore.QueueStoreError

interface Pending<In, Out> {
  readonly input: In
  readonly resume: (exit: Exit.Exit<Out, QueueStoreError>) => void
}

/**
 * `send(queue, inputs)` answers one exit per input, in order: one input can fail (its job's
 * record is broken) while the others of its call succeed. The returned function adds one
 * input for `queue` and waits for its answer.
 *
 * `answerInHalvesFrom: n`: a call of `n` inputs or more answers its callers in two halves, a
 * macrotask apart, so the work the first half's callers issue next can reach Redis while the
 * second half still runs (for producers that send again as soon as they are answered).
 */
export const make = <In, Out>(
  runFork: (effect: Effect.Effect<void>) => unknown,
  send: (
    queue: string,
    inputs: ReadonlyArray<In>
  ) => Effect.Effect<ReadonlyArray<Exit.Exit<Out, QueueStoreError>>, QueueStoreError>,
  options: { readonly answerInHalvesFrom?: number | undefined } = {}
): ((queue: string, input: In) => Effect.Effect<Out, QueueStoreError>) => {
  const halvesFrom = options.answerInHalvesFrom ?? Infinity
  let pending = new Map<string, Array<Pending<In, Out>>>()

  const sendChunk = (queue: string, chunk: ReadonlyArray<Pending<In, Out>>) =>
    Effect.suspend(() =>
      send(
        queue,
        chunk.map((entry) => entry.input)
      )
    ).pipe(
      // Every waiting caller is resumed, whatever happens (a defect, an interruption), so none hangs.
      Effect.onExit((exit) =>
        Effect.sync(() => {
          const answer = (from: number, to: number) => {
            for (let i = from; i < to; i++) {
              chunk[i]!.resume(Exit.isSuccess(exit) ? (exit.value[i] ?? missingAnswer) : Exit.failCause(exit.cause))
            }
          }
          if (Exit.isFailure(exit) || chunk.length < halvesFrom) return answer(0, chunk.length)
          const half = chunk.length >> 1
          answer(0, half)
          setImmediate(() => answer(half, chunk.length))
        })
      ),
      Effect.ignore
    )

  const flush = () => {
    const batch = pending
    pending = new Map()
    for (const [queue, entries] of batch) {
      for (const chunk of chunks(entries)) runFork(sendChunk(queue, chunk))
    }
  }

  return (queue, input) =>
    Effect.callback<Out, QueueStoreError>((resume) => {
      if (pending.size === 0) queueMicrotask(flush)
      const entries = pending.get(queue)
      const entry: Pending<In, Out> = { input, resume }
      if (entries === undefined) pending.set(queue, [entry])
      else entries.push(entry)
    })
}

const missingAnswer = Exit.die(new Error("a coalesced store call answered fewer inputs than it was sent"))
