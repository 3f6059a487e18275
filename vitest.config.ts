import { defineConfig } from "vitest/config"
import { sources } from "./vitest.shared.ts"

export default defineConfig({
  ...sources,
  test: {
    // A test's console output is shown only when it fails.
    silent: "passed-only",
    projects: ["packages/*", "examples"]
  }
})
