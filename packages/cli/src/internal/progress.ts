/**
 * A progress bar on stderr for long bulk operations (`enqueue --file`, `--all`), drawn only
 * when stderr is a terminal; otherwise silent, so logs and pipes stay clean.
 */
import * as Effect from "effect/Effect"
import { count } from "./output.ts"

/** A running progress bar. */
export interface Progress {
  /** Records `n` more items done. */
  readonly advance: (n: number) => Effect.Effect<void>
  /** Clears the bar. */
  readonly done: Effect.Effect<void>
}

/** Starts a bar for `total` items; `enabled: false` (or no terminal) draws nothing. */
export const make = (label: string, total: number, enabled = process.stderr.isTTY === true): Progress => {
  let current = 0
  let drawnAt = 0
  const width = 30
  const draw = (force: boolean) => {
    if (!enabled) return
    const now = performance.now()
    if (!force && now - drawnAt < 80) return
    drawnAt = now
    const ratio = total === 0 ? 1 : Math.min(1, current / total)
    const filled = Math.round(ratio * width)
    process.stderr.write(
      `\r\x1b[2K${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${count(current)}/${count(total)}`
    )
  }
  return {
    advance: (n) =>
      Effect.sync(() => {
        current += n
        draw(current >= total)
      }),
    done: Effect.sync(() => {
      if (enabled) process.stderr.write("\r\x1b[2K")
    })
  }
}
