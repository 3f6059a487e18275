/**
 * What every Vitest project shares: the workspace packages export their TypeScript sources
 * under the `@effect-jobs/source` condition (and their compiled `dist/` otherwise), so the
 * tests, and the programs they start as child processes, run the sources without a build.
 */
import { defaultClientConditions, defaultServerConditions } from "vite"

const condition = "@effect-jobs/source"

// Child processes (the CLI, the examples) inherit it through NODE_OPTIONS.
const nodeOptions = process.env.NODE_OPTIONS ?? ""
if (!nodeOptions.includes(`--conditions=${condition}`)) {
  process.env.NODE_OPTIONS = `${nodeOptions} --conditions=${condition}`.trim()
}

/** The resolve options of a project: the sources first. */
export const sources = {
  resolve: { conditions: [condition, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [condition, ...defaultServerConditions] } }
}
