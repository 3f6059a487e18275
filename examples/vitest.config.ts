import { defineProject } from "vitest/config"
import { sources } from "../vitest.shared.ts"

export default defineProject({
  ...sources,
  test: {
    name: "examples",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000
  }
})
