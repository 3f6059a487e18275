import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, it } from "@effect/vitest"

const script = fileURLToPath(new URL("../src/quick-start.ts", import.meta.url))

it("the README quick start runs the jobs due now and leaves the scheduled ones", () => {
  const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 })
  assert.strictEqual(run.status, 0, run.stderr)
  const out = run.stdout + run.stderr
  for (const id of [1, 4, 5]) assert.include(out, `welcome mail to ${id}, attempt 1`)
  for (const id of [2, 3]) assert.notInclude(out, `welcome mail to ${id},`)
})
