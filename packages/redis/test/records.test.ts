import { assert, describe, it } from "@effect/vitest"
import { decodeMeta } from "../src/internal/records.ts"

describe("decodeMeta", () => {
  it("reads every field of a record the scripts wrote", () => {
    assert.deepStrictEqual(decodeMeta("l+:3:4:1700000000000:1700000000500:-1:Send:Welcome\nmail"), {
      state: "leased",
      attempt: 3,
      claims: 4,
      enqueuedAt: 1700000000000,
      runAt: 1700000000500,
      diedAt: -1,
      // Everything after the sixth colon is the name, colons and newlines included.
      name: "Send:Welcome\nmail"
    })
    assert.strictEqual(decodeMeta("x:1:1:2:3:4:")?.state, "dead")
    assert.strictEqual(decodeMeta("x:1:1:2:3:4:")?.name, "")
  })

  it("refuses records that are not one", () => {
    for (const text of [
      undefined,
      42,
      "",
      "q:1:1:2:3:4:Name", // unknown state
      "l++:1:1:2:3:4:Name",
      "l:1:1:2:3:Name", // a field short
      "l:1:1:2:3.5:4:Name",
      "l:1::2:3:4:Name",
      "l:-:1:2:3:4:Name",
      "l:1:1:2:3:4x:Name",
      "l 1:1:2:3:4:Name"
    ]) {
      assert.isUndefined(decodeMeta(text), String(text))
    }
  })
})
