#!/usr/bin/env node
/**
 * The installed `effect-jobs` executable. It checks the Node version before it loads
 * anything else (Effect and the CLI need APIs an older Node lacks, and would stop with a
 * stack trace instead), then runs `bin.ts`.
 */
import { nodeProblem } from "./internal/nodeVersion.ts"

const problem = nodeProblem(process.versions.node)
if (problem !== undefined) {
  process.stderr.write(`effect-jobs: ${problem}\n`)
  process.exit(1)
}
await import("./bin.ts")
