import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // Tests start the binary as a child process, several times each.
    testTimeout: 60_000
  }
})
