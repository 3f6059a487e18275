/**
 * The oldest Node the CLI runs on, and the one-line message for an older one. Imported by
 * the executable before anything else, so it imports nothing.
 */

/** The oldest supported Node: the first that strips types from a `--jobs` module unflagged. */
export const minimumNode = "22.19.0"

const parse = (version: string): ReadonlyArray<number> => version.split(".").map((part) => Number.parseInt(part, 10))

/** Why `version` (as in `process.versions.node`) cannot run the CLI, or `undefined` if it can. */
export const nodeProblem = (version: string): string | undefined => {
  const found = parse(version)
  const needed = parse(minimumNode)
  for (let i = 0; i < needed.length; i++) {
    const a = found[i] ?? 0
    const b = needed[i] ?? 0
    if (Number.isNaN(a) || a > b) return undefined
    if (a < b)
      return `Node ${version} is too old: effect-jobs needs Node ${minimumNode} or newer (see https://nodejs.org)`
  }
  return undefined
}
