/**
 * Decoding what the scripts return into core's record types.
 *
 * A record's fields live in the queue's meta hash as
 * `state:attempt:claims:enqueuedAt:runAt:diedAt:name` (see `lua/includes/record.lua`);
 * failed attempts are AttemptError JSON texts, one per line; a payload may open with a
 * trace header (`payloadHeader.ts`).
 */
import type { JobRecord } from "@effect-jobs/core"
import * as PayloadHeader from "./payloadHeader.ts"

type AttemptError = JobRecord.AttemptError
type ClaimedJob = JobRecord.ClaimedJob
type JobState = JobRecord.JobState
type StoredJob = JobRecord.StoredJob

/** The fields of the meta hash entry. */
export interface Meta {
  readonly state: JobState
  readonly attempt: number
  readonly claims: number
  readonly enqueuedAt: number
  readonly runAt: number
  readonly diedAt: number
  readonly name: string
}

const states: Record<string, JobState> = {
  r: "ready",
  s: "scheduled",
  t: "retry",
  l: "leased",
  x: "dead",
  c: "completed"
}

/** The state letter the scripts use for a set. */
export const stateLetter = { scheduled: "s", retry: "t", dead: "x" } as const

// Where `field` stopped: just past the ':' that ends the field, or -1 when it is malformed.
let cursor = 0

/** Most digits of a number field, as the scripts write them (`lua/includes/record.lua`). */
const maxDigits = 14

/** The whole number at `cursor`, up to the next ':' (read arithmetically: no substring). */
const field = (text: string): number => {
  let at = cursor
  const negative = text.charCodeAt(at) === 45 /* - */
  if (negative) at++
  const digits = at
  let value = 0
  for (let code = text.charCodeAt(at); code >= 48 && code <= 57; code = text.charCodeAt(++at)) {
    value = value * 10 + (code - 48)
  }
  cursor = at > digits && at - digits <= maxDigits && text.charCodeAt(at) === 58 /* : */ ? at + 1 : -1
  return negative ? -value : value
}

/**
 * Parses a meta entry; `undefined` when absent or malformed. By hand: every claimed job's
 * record goes through here, and this allocates only the result and the name.
 */
export const decodeMeta = (text: unknown): Meta | undefined => {
  if (typeof text !== "string") return undefined
  const state = states[text.charAt(0)]
  if (state === undefined) return undefined
  const at = text.charCodeAt(1) === 43 /* + */ ? 2 : 1
  if (text.charCodeAt(at) !== 58 /* : */) return undefined
  cursor = at + 1
  const attempt = field(text)
  if (cursor < 0) return undefined
  const claims = field(text)
  if (cursor < 0) return undefined
  const enqueuedAt = field(text)
  if (cursor < 0) return undefined
  const runAt = field(text)
  if (cursor < 0) return undefined
  const diedAt = field(text)
  if (cursor < 0) return undefined
  return { state, attempt, claims, enqueuedAt, runAt, diedAt, name: text.slice(cursor) }
}

/** One stored error line, when it is the AttemptError JSON the store wrote. */
const decodeLine = (line: string): AttemptError | undefined => {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const { at, attempt, cause, message, tag } = value as Record<string, unknown>
  return typeof attempt === "number" &&
    typeof tag === "string" &&
    typeof message === "string" &&
    typeof cause === "string" &&
    typeof at === "number"
    ? { attempt, tag, message, cause, at }
    : undefined
}

/**
 * Parses the error lines of a job; a line that is not an AttemptError stays visible as one.
 * Checked by hand rather than through a Schema: every retried job's claim decodes its history.
 */
export const decodeErrors = (text: unknown): Array<AttemptError> => {
  if (typeof text !== "string" || text === "") return []
  return text.split("\n").map(
    (line) =>
      decodeLine(line) ?? {
        attempt: 0,
        tag: "Unreadable",
        message: line.slice(0, 200),
        cause: line,
        at: 0
      }
  )
}

/** Builds a stored job from its fields; `undefined` when the record is missing or malformed. */
export const toStored = (
  id: string,
  queue: string,
  metaText: unknown,
  payload: unknown,
  errors: unknown,
  reason: unknown
): StoredJob | undefined => {
  const meta = decodeMeta(metaText)
  if (meta === undefined) return undefined
  const dead = meta.state === "dead"
  const stored = typeof payload === "string" ? payload : ""
  return {
    id,
    name: meta.name,
    queue,
    payload: PayloadHeader.payloadOf(stored),
    enqueuedAt: meta.enqueuedAt,
    runAt: meta.runAt,
    attempt: meta.attempt,
    errors: decodeErrors(errors),
    deadReason: dead && typeof reason === "string" ? reason : undefined,
    diedAt: dead ? meta.diedAt : undefined,
    trace: PayloadHeader.traceOf(stored),
    state: meta.state
  }
}

/**
 * The fencing value of a lease token, `<queue>|<owner>:<sequence>` (a `+` may follow): the
 * queue's claim sequence, which every claim of the queue takes a new, higher number from.
 */
export const fenceOf = (token: string): number => {
  const end = token.endsWith("+") ? token.length - 1 : token.length
  return Number(token.slice(token.lastIndexOf(":") + 1, end))
}

/** Fields per job in a `claim` reply: id, token, meta, payload, error lines. */
export const jobFieldCount = 5

/**
 * Builds a claimed job from its five `claim` fields, starting at `at`; `undefined` when this
 * client cannot read the record (the caller sets the job aside in the quarantine, and the
 * rest of the batch runs).
 */
export const toClaimed = (
  queue: string,
  fields: ReadonlyArray<string>,
  at: number,
  leaseDeadline: number,
  claimedAt: number
): ClaimedJob | undefined => {
  const meta = decodeMeta(fields[at + 2])
  if (meta === undefined) return undefined
  const stored = fields[at + 3]!
  return {
    id: fields[at]!,
    name: meta.name,
    queue,
    payload: PayloadHeader.payloadOf(stored),
    enqueuedAt: meta.enqueuedAt,
    runAt: meta.runAt,
    attempt: meta.attempt,
    errors: decodeErrors(fields[at + 4]),
    deadReason: undefined,
    diedAt: undefined,
    trace: PayloadHeader.traceOf(stored),
    state: "leased",
    token: fields[at + 1]!,
    fence: fenceOf(fields[at + 1]!),
    leaseDeadline,
    claimedAt
  } as ClaimedJob
}
