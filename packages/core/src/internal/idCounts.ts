/**
 * How many of the worker's slots may hold each job id: a counting filter over a fixed array.
 *
 * `mayHold(id)` is never false for an id that is held, and rarely true for one that is not
 * (two ids sharing a bucket), so the worker searches its slots for an earlier run of an id only
 * when it says so. A Map from id to count did the same exactly, but a Map with an entry added
 * and deleted per job keeps growing and shrinking its table: rehashing it was 3% of a busy
 * worker's CPU at concurrency 100.
 */
export interface IdCounts {
  readonly add: (id: string) => void
  readonly remove: (id: string) => void
  readonly mayHold: (id: string) => boolean
}

/** `buckets` is rounded up to a power of two; keep it well above the worker's concurrency. */
export const make = (buckets: number): IdCounts => {
  let size = 1
  while (size < buckets) size *= 2
  const mask = size - 1
  // Slots per bucket: at most the worker's concurrency, and a bucket never goes below zero.
  const counts = new Uint32Array(size)
  // FNV-1a over the length and the last eight code units: generated ids are random throughout,
  // and ids callers choose ("import-42") differ at their end.
  const bucket = (id: string) => {
    let hash = Math.imul(0x811c9dc5 ^ id.length, 0x01000193)
    for (let i = Math.max(0, id.length - 8); i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193)
    return hash & mask
  }
  return {
    add: (id) => {
      counts[bucket(id)]!++
    },
    remove: (id) => {
      const at = bucket(id)
      if (counts[at]! > 0) counts[at]!--
    },
    mayHold: (id) => counts[bucket(id)]! > 0
  }
}
