import { assert, describe, it } from "@effect/vitest"
import * as IdCounts from "../src/internal/idCounts.ts"

describe("IdCounts", () => {
  it("says a held id may be held until every slot holding it is freed", () => {
    const counts = IdCounts.make(8)
    counts.add("job-1")
    counts.add("job-1")
    assert.isTrue(counts.mayHold("job-1"))
    counts.remove("job-1")
    assert.isTrue(counts.mayHold("job-1"))
    counts.remove("job-1")
    assert.isFalse(counts.mayHold("job-1"))
  })

  it("never forgets a held id, whatever else shares its bucket", () => {
    const counts = IdCounts.make(4) // 4 buckets for 50 ids: every bucket is shared
    const ids = Array.from({ length: 50 }, (_, i) => `id-${i}`)
    for (const id of ids) counts.add(id)
    for (const id of ids.slice(0, 25)) counts.remove(id)
    for (const id of ids.slice(25)) assert.isTrue(counts.mayHold(id), id)
    for (const id of ids.slice(25)) counts.remove(id)
    for (const id of ids) assert.isFalse(counts.mayHold(id), id)
  })

  it("rarely mistakes a free id for a held one when the buckets outnumber the ids", () => {
    const counts = IdCounts.make(2048)
    for (let i = 0; i < 100; i++) counts.add(`held-${i}-${Math.random().toString(36).slice(2)}`)
    let mistaken = 0
    for (let i = 0; i < 10_000; i++) if (counts.mayHold(`free-${i}-${Math.random().toString(36).slice(2)}`)) mistaken++
    // 100 held ids in 2,048 buckets: about 5% of other ids share a bucket with one.
    assert.isBelow(mistaken, 1_000)
  })
})
