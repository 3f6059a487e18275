/**
 * Writing results: stdout for what a command produces (ids, tables, JSON), stderr for
 * progress and notes, so `effect-jobs enqueue ... | xargs` and `stats --json | jq` work.
 */
import * as Effect from "effect/Effect"

/** Writes a line to stdout. */
export const print = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${text}\n`))

/** Writes a line to stderr. */
export const note = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${text}\n`))

/** Writes a value as one line of JSON to stdout. */
export const printJson = (value: unknown): Effect.Effect<void> => print(JSON.stringify(value))

/** Whether stdout is a terminal (tables and redraws) or a pipe (plain lines). */
export const stdoutIsTty = (): boolean => process.stdout.isTTY === true

/** Whether stderr is a terminal (progress bars). */
export const stderrIsTty = (): boolean => process.stderr.isTTY === true

/** `1234567` → `1,234,567`. */
export const count = (n: number): string => n.toLocaleString("en-US")

/** Cuts text to `width` characters with an ellipsis. */
export const truncate = (text: string, width: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`
}

/** Lays out rows under a header; columns listed in `right` are right-aligned. */
export const table = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  right: ReadonlyArray<number> = []
): string => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)))
  const render = (row: ReadonlyArray<string>) =>
    row
      .map((cell, column) => (right.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd()
  return [render(header), ...rows.map(render)].join("\n")
}
