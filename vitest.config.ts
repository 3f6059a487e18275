import { defineConfig } from "vitest/config"
import { sources } from "./vitest.shared.ts"

export default defineConfig({
  ...sources,
  test: {
    // A test's console output is shown only when it fails.
    silent: "passed-only",
    // bench: the harness's smoke test (bench --quick, about a minute), so CI notices a broken bench.
    projects: ["packages/*", "examples", "bench"]
  }
})
