import type { ProcessRegistry, QueueStore } from "@effect-jobs/core"
import { assert, describe, it } from "@effect/vitest"
import { render } from "../src/commands/Stats.ts"

const at = 1_000_000

const storeStats = (leased: number): QueueStore.StoreStats => ({
  processed: 10,
  failed: 1,
  queues: [{ name: "default", size: 4, paused: false, latencyMillis: 1200 }],
  scheduled: 0,
  retry: 0,
  dead: 0,
  leased
})

const process = (id: string, running: number): ProcessRegistry.ProcessInfo => ({
  id,
  hostname: "host",
  pid: 1,
  queues: [{ name: "default", weight: 1 }],
  strict: false,
  concurrency: 5,
  startedAt: at - 60_000,
  quiet: false,
  running: Array.from({ length: running }, (_, n) => ({
    id: `${id}-job-${n}`,
    name: "Greet",
    queue: "default",
    attempt: 1,
    startedAt: at - 1000
  })),
  beatAt: at
})

describe("stats", () => {
  it("counts as busy the jobs the process lines show, whatever the store's lease count", () => {
    // Two leases more than the heartbeats report: a claim between two heartbeats.
    const text = render({ at, stats: storeStats(5), processes: [process("a", 2), process("b", 1)] })
    assert.match(text, /Busy 3 /)
    assert.match(text, /a {2}busy 2\/5/)
    assert.match(text, /b {2}busy 1\/5/)
  })

  it("says which leases belong to no live worker when none is running", () => {
    const text = render({ at, stats: storeStats(2), processes: [] })
    assert.match(text, /Busy 0 /)
    assert.include(text, "(2 leased by workers no longer running: requeued when their leases expire)")
  })
})
