/**
 * The Lua scripts, read from `src/lua/` once, and the one table of their negative return codes.
 *
 * A line `--- @include "name"` is replaced by `lua/includes/name.lua`, so shared helpers
 * (Redis time, the record format, promotion) are written once. The number of keys comes
 * from the file name (`claim-9.lua` takes 9 KEYS).
 */
import { readFileSync } from "node:fs"
import { type LuaScript, luaScript } from "../IoRedis.ts"

/**
 * Where the scripts are, seen from this module's URL. They stay in `src/lua/` (the compiler
 * does not copy them), which from the compiled `dist/src/internal/` is three levels further up.
 */
export const luaDirectory = (moduleUrl: string): URL =>
  new URL(moduleUrl.includes("/dist/src/internal/") ? "../../../src/lua/" : "../lua/", moduleUrl)

const directory = luaDirectory(import.meta.url)

const read = (file: string) => readFileSync(new URL(file, directory), "utf8")

const load = (file: string): LuaScript => {
  const lua = read(`${file}.lua`).replace(/^--- @include "([A-Za-z]+)"$/gm, (_, include: string) =>
    read(`includes/${include}.lua`)
  )
  const [, name = file, keys = "0"] = /^(.*)-(\d+)$/.exec(file) ?? []
  return luaScript(name, lua, Number(keys))
}

const files = [
  "reserveIds-1",
  "takeOverIds-1",
  "forgetIds-1",
  "sweepIds-1",
  "enqueue-7",
  "claim-14",
  "extendLeases-2",
  "ack-9",
  "retry-8",
  "kill-10",
  "discard-7",
  "requeue-6",
  "reap-5",
  "promote-5",
  "awaitWork-4",
  "resume-1",
  "stats-8",
  "get-4",
  "listQueue-5",
  "list-5",
  "retryNow-4",
  "remove-5",
  "heartbeat-2",
  "removeProcess-2",
  "listProcesses-2",
  "probe-1",
  "quarantine-3",
  "requeueQuarantined-3",
  "removeQuarantined-4"
] as const

type ScriptName<F> = F extends `${infer Name}-${number}` ? Name : never

/** Every script by name. */
export type Scripts = { readonly [K in ScriptName<(typeof files)[number]>]: LuaScript }

let loaded: Scripts | undefined

/** Reads the scripts (once per process). */
export const scripts = (): Scripts => {
  if (loaded === undefined) {
    loaded = Object.fromEntries(files.map((file) => [file.replace(/-\d+$/, ""), load(file)])) as unknown as Scripts
  }
  return loaded
}

/** What each negative return code of a script means. Scripts return no other negative numbers. */
export const scriptErrors: { readonly [code: number]: string } = {
  [-1]: "the job's record is missing (were its keys changed outside effect-jobs?)",
  [-2]: "the script got malformed arguments (a bug in @effect-jobs/redis)",
  [-3]: "the job's record is malformed (were its keys changed outside effect-jobs?)"
}

/** The meaning of a script's reply when it is an error code, else `undefined`. */
export const scriptError = (reply: unknown): string | undefined =>
  typeof reply === "number" && reply < 0 ? (scriptErrors[reply] ?? `unknown error code ${reply}`) : undefined
