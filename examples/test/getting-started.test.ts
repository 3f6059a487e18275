import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, it } from "@effect/vitest"

const script = fileURLToPath(new URL("../src/getting-started.ts", import.meta.url))

it("the getting-started program runs the job due now and the one delayed by a second, then exits 0", () => {
  const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 })
  assert.strictEqual(run.status, 0, run.stderr)
  const out = run.stdout + run.stderr
  assert.include(out, "welcome mail to user 1 (attempt 1)")
  assert.include(out, "welcome mail to user 2 (attempt 1)")
})
