import { defineProject } from "vitest/config"
import { sources } from "../../vitest.shared.ts"

export default defineProject({
  ...sources,
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // Tests start the binary as a child process, several times each.
    testTimeout: 60_000
  }
})
