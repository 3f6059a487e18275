import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { scenarioNames } from "../src/scenarios.ts"

const benchDir = Path.resolve(import.meta.dirname, "..")

interface Results {
  readonly rows: ReadonlyArray<{ readonly title: string; readonly values: Record<string, ReadonlyArray<number>> }>
  readonly runs: ReadonlyArray<{
    readonly system: string
    readonly scenario: string
    readonly variant: string
    readonly ok: boolean
    readonly error?: string
  }>
}

// A smoke test of the harness only: no timing is asserted.
describe("bench --quick", () => {
  it("runs every scenario for effect-jobs, BullMQ (and Sidekiq when installed) and writes rows for each", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-bench-test-"))
    const out = Path.join(dir, "quick.json")
    try {
      const output = await new Promise<string>((resolve) => {
        execFile(
          process.execPath,
          ["--conditions=@effect-jobs/source", "src/main.ts", "--quick", "--out", out],
          { cwd: benchDir, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => resolve(`${stdout}${stderr}${error ? `\n${error.message}` : ""}`)
        )
      })
      assert.isTrue(Fs.existsSync(out), `no ${out}; the harness printed:\n${output}`)
      const results = JSON.parse(Fs.readFileSync(out, "utf8")) as Results
      assert.isAbove(results.rows.length, 0)
      // Sidekiq runs where Ruby with the sidekiq gem is installed; otherwise the harness says why not.
      assert.match(output, /^Sidekiq(: skipped \(ruby-sidekiq not installed\)| \S+ \(ruby \S+\))$/m)
      const sidekiq = /^Sidekiq \S+ \(ruby/m.test(output)
      const failed = results.runs.filter((run) => !run.ok).map((run) => `${run.system} ${run.variant}: ${run.error}`)
      assert.deepStrictEqual(failed, [], "every run succeeded")
      // Every scenario ran for every system (Sidekiq sits out only what the harness skips for it).
      for (const system of ["effect-jobs", "bullmq"]) {
        const ran = new Set(results.runs.filter((run) => run.system === system).map((run) => run.scenario))
        assert.deepStrictEqual(
          scenarioNames.filter((scenario) => !ran.has(scenario)),
          [],
          `scenarios ${system} did not run`
        )
      }
      // And every row of the table has an effect-jobs value.
      const empty = results.rows.filter((row) => (row.values["effect-jobs"] ?? []).length === 0).map((row) => row.title)
      assert.deepStrictEqual(empty, [], "rows without an effect-jobs value")
      if (sidekiq) assert.isTrue(results.runs.some((run) => run.system === "sidekiq" && run.ok))
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
