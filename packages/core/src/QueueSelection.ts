/**
 * Which queues a worker fetches from, in what order, at each fetch.
 *
 * As in Sidekiq: queues given with weights (`[["urgent", 10], ["default", 1]]`) are put
 * in a weighted random order at every fetch, so a busy `urgent` queue is served about ten
 * times as often while `default` is never starved; queues given as plain names, or with
 * `strict: true`, are always tried in the order given.
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { queueNameProblem } from "./internal/queueName.ts"

/** Queues as a worker accepts them: names, `[name, weight]` pairs, or `{ name: weight }`. */
export type QueueSpec = ReadonlyArray<string | readonly [string, number]> | Readonly<Record<string, number>>

/** A queue and its weight. */
export interface WeightedQueue {
  readonly name: string
  readonly weight: number
}

/** A resolved selection. */
export interface QueueSelection {
  readonly queues: ReadonlyArray<WeightedQueue>
  readonly strict: boolean
  /** The order to try queues in for one fetch. */
  readonly order: Effect.Effect<ReadonlyArray<string>>
}

/** Parses a spec; returns a problem message naming the bad entry instead of throwing. */
export const parse = (spec: QueueSpec, strict?: boolean): QueueSelection | string => {
  const entries: Array<readonly [string, number | undefined]> = Array.isArray(spec)
    ? spec.map((entry): readonly [string, number | undefined] =>
        typeof entry === "string" ? [entry, undefined] : entry
      )
    : Object.entries(spec)
  if (entries.length === 0) return "queues: give at least one queue"
  const seen = new Set<string>()
  const queues: Array<WeightedQueue> = []
  for (const [name, weight] of entries) {
    const problem = queueNameProblem(name)
    if (problem !== undefined) return `queues: ${problem}`
    if (seen.has(name)) return `queues: ${name} is listed twice`
    seen.add(name)
    if (weight !== undefined && (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0)) {
      return `queues: weight of ${name} must be a positive number, got ${String(weight)}`
    }
    queues.push({ name, weight: weight ?? 1 })
  }
  const isStrict = strict ?? entries.every(([, weight]) => weight === undefined)
  const names = queues.map((q) => q.name)
  return {
    queues,
    strict: isStrict,
    order: isStrict || queues.length === 1 ? Effect.succeed(names) : weightedOrder(queues)
  }
}

/** Weighted sampling without replacement: each pick is proportional to the remaining weights. */
const weightedOrder = (queues: ReadonlyArray<WeightedQueue>): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const remaining = queues.slice()
    const order: Array<string> = []
    while (remaining.length > 1) {
      const total = remaining.reduce((sum, q) => sum + q.weight, 0)
      let pick = (yield* Random.next) * total
      let index = 0
      while (index < remaining.length - 1 && pick >= remaining[index]!.weight) {
        pick -= remaining[index]!.weight
        index++
      }
      order.push(remaining[index]!.name)
      remaining.splice(index, 1)
    }
    order.push(remaining[0]!.name)
    return order
  })
