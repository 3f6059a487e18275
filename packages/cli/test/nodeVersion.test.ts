import { assert, describe, it } from "@effect/vitest"
import { nodeProblem } from "../src/internal/nodeVersion.ts"

describe("nodeProblem", () => {
  it("names the version found and the one needed when Node is older than 22.19", () => {
    assert.strictEqual(
      nodeProblem("20.20.2"),
      "Node 20.20.2 is too old: effect-jobs needs Node 22.19.0 or newer (see https://nodejs.org)"
    )
    assert.match(nodeProblem("22.18.9") ?? "", /^Node 22\.18\.9 is too old/)
  })

  it("accepts 22.19 and every newer Node", () => {
    for (const version of ["22.19.0", "22.20.1", "23.0.0", "24.21.0", "30.1.2"]) {
      assert.isUndefined(nodeProblem(version), version)
    }
  })
})
