import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"

const benchDir = Path.resolve(import.meta.dirname, "..")

interface Results {
  readonly rows: ReadonlyArray<{ readonly values: Record<string, ReadonlyArray<number>> }>
  readonly runs: ReadonlyArray<{ readonly system: string; readonly ok: boolean; readonly error?: string }>
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
          { cwd: benchDir, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => resolve(`${stdout}${stderr}${error ? `\n${error.message}` : ""}`)
        )
      })
      assert.isTrue(Fs.existsSync(out), `no ${out}; the harness printed:\n${output}`)
      const results = JSON.parse(Fs.readFileSync(out, "utf8")) as Results
      assert.isAbove(results.rows.length, 0)
      // Sidekiq runs where Ruby with the sidekiq gem is installed; otherwise the harness says why not.
      assert.match(output, /^Sidekiq(: skipped \(ruby-sidekiq not installed\)| \S+ \(ruby \S+\))$/m)
      const sidekiq = /^Sidekiq \S+ \(ruby/m.test(output)
      for (const system of ["effect-jobs", "bullmq", ...(sidekiq ? ["sidekiq"] : [])]) {
        const filled = results.rows.filter((row) => (row.values[system] ?? []).length > 0)
        const failed = results.runs.filter((run) => run.system === system && !run.ok).map((run) => run.error)
        assert.isAbove(filled.length, 0, `no row has a value for ${system}; failed runs: ${failed.join("; ")}`)
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
