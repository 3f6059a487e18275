/**
 * Parsers for flag values: durations, queue specs, queue names, JSON. Each returns the value
 * or throws an `Error` whose message says what was expected; `Flag.mapTryCatch` turns that
 * into an exit-2 error naming the flag.
 */
import { QueueSelection } from "@effect-jobs/core"
import * as Duration from "effect/Duration"

const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000
}

/** The message of what a parser threw: the text a flag's error shows. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** `250ms`, `30s`, `5m`, `1.5h`, `2d`, or Effect's `"30 seconds"`; milliseconds out. */
export const parseDuration = (text: string): number => {
  const trimmed = text.trim()
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)$/.exec(trimmed)
  if (short !== null) return Number(short[1]) * units[short[2]!]!
  const long = Duration.fromInput(trimmed as Duration.Input)
  if (long._tag === "Some" && Duration.isFinite(long.value) && /^\d/.test(trimmed)) {
    return Duration.toMillis(long.value)
  }
  throw new Error(`a duration such as 30s, 250ms, 5m, 1h or "30 seconds"`)
}

/** A duration that must be above zero. */
export const parsePositiveDuration = (text: string): number => {
  const millis = parseDuration(text)
  if (millis <= 0) throw new Error("a duration above zero, such as 30s")
  return millis
}

/** Formats milliseconds for people: `850 ms`, `12.3 s`, `4 min 5 s`, `3 h 2 min`, `2 d 1 h`. */
export const formatMillis = (millis: number): string => {
  if (millis < 1000) return `${Math.max(0, Math.round(millis))} ms`
  if (millis < 60_000) return `${(millis / 1000).toFixed(millis < 10_000 ? 1 : 0)} s`
  const minutes = Math.floor(millis / 60_000)
  if (minutes < 60) return `${minutes} min ${Math.floor((millis % 60_000) / 1000)} s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/** A queue name as the core accepts it. */
export const parseQueueName = (text: string): string => {
  const problem = QueueSelection.parse([text])
  if (typeof problem === "string") throw new Error(problem.replace(/^queues: /, ""))
  return text
}

/** One `-q` value: `name`, `name:weight` or `name,weight` (use the comma when the name has a colon). */
export const parseQueueSpec = (text: string): { readonly name: string; readonly weight: number | undefined } => {
  const comma = text.lastIndexOf(",")
  const colon = text.lastIndexOf(":")
  const at = comma >= 0 ? comma : colon
  const name = at >= 0 ? text.slice(0, at) : text
  const weightText = at >= 0 ? text.slice(at + 1) : undefined
  parseQueueName(name)
  if (weightText === undefined) return { name, weight: undefined }
  const weight = Number(weightText)
  if (weightText.trim() === "" || !Number.isFinite(weight) || weight <= 0) {
    throw new Error(
      `name or name:weight with a positive number as weight, got weight ${JSON.stringify(weightText)}` +
        (comma < 0 ? ` (a queue name containing ':' takes its weight after a comma: -q ${text},1)` : "")
    )
  }
  return { name, weight }
}

/** A whole number of at least `min`. */
export const parseWholeNumber =
  (min: number) =>
  (n: number): number => {
    if (!Number.isInteger(n) || n < min) throw new Error(`a whole number >= ${min}`)
    return n
  }

/** A TCP port to listen on, 1-65535. */
export const parsePort = (n: number): number => {
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`a port number from 1 to 65535, got ${n}`)
  return n
}

/** An instant as ISO 8601 text (`2030-01-01T09:00:00Z`); epoch milliseconds out. */
export const parseInstant = (text: string): number => {
  const millis = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(millis)) {
    throw new Error("an ISO 8601 time such as 2030-01-01T09:00:00Z")
  }
  return millis
}

/** Hides the password of a Redis URL: `redis://:***@host:6379/0`. */
export const maskUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^@/]*)@/, "//***@")
  }
}
