/** `effect-jobs scheduled list|show|delete`: jobs enqueued to run later (`--delay`, `--at`). */
import * as JobSet from "../internal/jobSet.ts"

/** The `scheduled` command group. */
export const command = JobSet.make(
  { command: "scheduled", set: "scheduled", title: "the scheduled set" },
  ["delete"],
  "List or delete jobs scheduled for later (needs --redis)"
)
