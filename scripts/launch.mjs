#!/usr/bin/env node
/**
 * Runs a command of the repository (`npm start`, `npm test`) on a Node that can run it.
 *
 * `node scripts/launch.mjs <command> [args...]` runs the command with the workspace packages
 * resolved to their TypeScript sources (`--conditions=@effect-jobs/source`, no build needed).
 * When the Node running this file is older than 22.19 (the first to strip types without a
 * flag), it installs Node 24 through npm into a cache once, as `.ci/run` does, says so in
 * one line and runs the command on it. Plain JavaScript that Node 12 can still parse.
 */
import { spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const needed = [22, 19]
const [major, minor] = process.versions.node.split(".").map(Number)
const tooOld = major < needed[0] || (major === needed[0] && minor < needed[1])

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const env = { ...process.env }
const condition = "--conditions=@effect-jobs/source"
if (!(env.NODE_OPTIONS || "").includes(condition)) env.NODE_OPTIONS = `${env.NODE_OPTIONS || ""} ${condition}`.trim()

const paths = [Path.join(root, "node_modules", ".bin")]
if (tooOld) {
  const cache = Path.join(env.XDG_CACHE_HOME || Path.join(Os.homedir(), ".cache"), "effect-jobs", "node24")
  const bin = Path.join(cache, "node_modules", ".bin")
  if (!Fs.existsSync(Path.join(bin, "node"))) {
    process.stderr.write(
      `Node ${process.versions.node} is older than ${needed.join(".")}: installing Node 24 into ${cache} (once)\n`
    )
    const install = spawnSync(
      "npm",
      ["install", "--prefix", cache, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "node@24"],
      { stdio: "inherit" }
    )
    if (install.status !== 0) {
      process.stderr.write(`could not install Node 24 with npm: install Node >= ${needed.join(".")} and run again\n`)
      process.exit(1)
    }
  } else {
    process.stderr.write(
      `Node ${process.versions.node} is older than ${needed.join(".")}: running on Node 24 from ${cache}\n`
    )
  }
  paths.unshift(bin)
}
env.PATH = [...paths, env.PATH].join(Path.delimiter)

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  process.stderr.write("usage: node scripts/launch.mjs <command> [args...]\n")
  process.exit(2)
}
const child = spawn(command, args, { stdio: "inherit", env })
// Ctrl-C and a closed terminal reach the child too (same process group): wait for its
// shutdown. A SIGTERM sent to this process alone is passed on.
process.on("SIGINT", () => {})
process.on("SIGHUP", () => {})
process.on("SIGTERM", () => child.kill("SIGTERM"))
child.on("error", (error) => {
  process.stderr.write(`cannot run ${command}: ${error.message}\n`)
  process.exit(1)
})
child.on("exit", (code, signal) =>
  process.exit(code ?? (signal === null ? 1 : 128 + (Os.constants.signals[signal] || 0)))
)
