/**
 * Payload encoding for the client and decoding for the worker: schema → JSON value →
 * text, with every refusal phrased as `Job.payload.path: problem`.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { InvalidPayload, PayloadTooLarge } from "../JobError.ts"
import { truncateUtf8, utf8Length } from "./bounded.ts"

type Issue = { readonly path: string; readonly message: string }

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["to", "emails", 2]` → `.to.emails[2]` */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`)).join("")

/** Most bytes of one issue's message: a message echoes the value, which may be megabytes. */
const maxIssueBytes = 256

/**
 * The JSON form of `Schema.Number` also accepts "Infinity", "-Infinity" and "NaN", so a
 * string for a number field reads `Expected "Infinity" | "-Infinity" | "NaN", got "seven"`;
 * users declared a number.
 */
const jsonNumberLiterals = /(?:number \| )?"Infinity" \| "-Infinity" \| "NaN"/g

/** The schema issues of a failed encode or decode, each with its full path and a bounded message. */
export const schemaIssues = (prefix: string, issue: SchemaIssue.Issue): Array<Issue> =>
  formatter(issue).issues.map((entry) => ({
    path:
      prefix + formatPath((entry.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment))),
    message: truncateUtf8(entry.message.replace(jsonNumberLiterals, "number"), maxIssueBytes)
  }))

const describe = (value: unknown): string => {
  if (value === undefined) return "undefined"
  if (typeof value === "function") return "a function"
  if (typeof value === "bigint") return `the bigint ${value}n`
  if (typeof value === "symbol") return "a symbol"
  if (typeof value === "number") return String(value)
  if (value instanceof Date) return "a Date"
  if (value instanceof Map) return "a Map"
  if (value instanceof Set) return "a Set"
  return `an instance of ${(value as object).constructor?.name ?? "an unknown class"}`
}

/**
 * Finds the first value that `JSON.stringify` would change or drop: it would not come back
 * as the same value on the worker, so it is refused unless the schema encodes it.
 */
export const findNonJson = (value: unknown, path: string, seen: Set<object> = new Set()): Issue | undefined => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? undefined
      : {
          path,
          message: `${value} does not survive JSON; use a schema that encodes it (Schema.Number in the payload does)`
        }
  }
  if (Array.isArray(value)) {
    if (seen.has(value)) return { path, message: "circular reference" }
    seen.add(value)
    for (let i = 0; i < value.length; i++) {
      const found = findNonJson(value[i], `${path}[${i}]`, seen)
      if (found !== undefined) return found
    }
    seen.delete(value)
    return undefined
  }
  if (
    Predicate.isObject(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)
  ) {
    if (seen.has(value)) return { path, message: "circular reference" }
    seen.add(value)
    for (const key of Object.keys(value)) {
      const found = findNonJson((value as Record<string, unknown>)[key], `${path}.${key}`, seen)
      if (found !== undefined) return found
    }
    seen.delete(value)
    return undefined
  }
  return {
    path,
    message:
      `${describe(value)} is not JSON; give the field a schema that encodes it (for example Schema.Date) ` +
      `or convert it before enqueueing`
  }
}

/**
 * Whether `JSON.stringify` keeps `value` as it is, without building paths (the hot path's
 * check): stricter than `findNonJson` (it also gives up on very deep values, which may be
 * circular), so whatever it accepts, `findNonJson` accepts too.
 */
const isPlainJson = (value: unknown, depth: number): boolean => {
  if (value === null) return true
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object": {
      if (depth > 64) return false
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false
        return true
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in value) {
        if (Object.hasOwn(value, key) && !isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

/**
 * The UTF-8 size of `text` when it is over `maxBytes`, else `undefined`. Most payloads are far
 * below the limit even at 3 bytes a character: those skip the count.
 */
const bytesOver = (text: string, maxBytes: number): number | undefined => {
  if (text.length * 3 <= maxBytes) return undefined
  const bytes = utf8Length(text)
  return bytes > maxBytes ? bytes : undefined
}

/** A job's payload codec: encodes for the store, decodes for the handler. */
export interface PayloadCodec {
  readonly encode: (
    jobName: string,
    payload: unknown,
    maxBytes: number
  ) => Effect.Effect<string, InvalidPayload | PayloadTooLarge>
  /**
   * `encode` for the common case without an effect: the JSON text of a payload that is
   * clearly valid, or `undefined` when `encode` must decide (a refused payload, a schema that
   * does not answer at once, a value that needs a closer look, a size near the limit); `encode`
   * then makes the same checks and fails with the usual errors.
   */
  readonly encodeNow: (payload: unknown, maxBytes: number) => string | undefined
  /** The payload of a stored job; an `Exit` when the schema answers at once (every job's path). */
  readonly decode: (text: string) => Effect.Effect<unknown, string>
}

export const makePayloadCodec = (schema: Schema.Top): PayloadCodec => {
  const codec = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>)
  const encodeSchema = Schema.encodeUnknownEffect(codec)
  const decodeSchema = Schema.decodeUnknownEffect(codec)
  const parseOptions = { errors: "all", reportInput: true } as const
  return {
    encodeNow: (payload, maxBytes) => {
      // The default parse options: `encode`'s (all errors, with inputs) only shape failures.
      // A schema that answers at once gives its `Exit` directly.
      const result: unknown = encodeSchema(payload)
      if (!Exit.isExit(result) || !Exit.isSuccess(result) || !isPlainJson(result.value, 0)) return undefined
      const text = JSON.stringify(result.value)
      return bytesOver(text, maxBytes) === undefined ? text : undefined
    },
    encode: (jobName, payload, maxBytes) =>
      encodeSchema(payload, parseOptions).pipe(
        Effect.mapError(
          (error) =>
            new InvalidPayload({
              job: jobName,
              issues: schemaIssues(`${jobName}.payload`, error.issue),
              cause: error.issue
            })
        ),
        Effect.flatMap((encoded): Effect.Effect<string, InvalidPayload | PayloadTooLarge> => {
          const nonJson = findNonJson(encoded, `${jobName}.payload`)
          if (nonJson !== undefined) return Effect.fail(new InvalidPayload({ job: jobName, issues: [nonJson] }))
          const text = JSON.stringify(encoded)
          const bytes = bytesOver(text, maxBytes)
          return bytes === undefined
            ? Effect.succeed(text)
            : Effect.fail(new PayloadTooLarge({ job: jobName, bytes, maxBytes }))
        })
      ),
    decode: (text) => {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (error) {
        return Exit.fail(`payload is not JSON (${(error as Error).message})`)
      }
      // Every job's path: a schema that answers at once gives its `Exit` directly, parsed with
      // the default options (first issue only); all issues are collected only to describe a failure.
      const result: unknown = decodeSchema(json)
      if (Exit.isExit(result) && Exit.isSuccess(result)) return result as Exit.Success<unknown, never>
      return decodeSchema(json, parseOptions).pipe(
        Effect.mapError(
          (error) =>
            `payload does not match the job's schema: ${schemaIssues("payload", error.issue)
              .map((i) => `${i.path}: ${i.message}`)
              .join("; ")}`
        )
      )
    }
  }
}
