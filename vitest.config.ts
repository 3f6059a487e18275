import { defineConfig } from "vitest/config"
import { sources } from "./vitest.shared.ts"

export default defineConfig({
  ...sources,
  test: {
    projects: ["packages/*", "examples"]
  }
})
