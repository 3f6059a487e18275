/** `effect-jobs dead list|show|retry|delete`: jobs that ran out of retries or failed unrecoverably. */
import * as JobSet from "../internal/jobSet.ts"

/** The `dead` command group. */
export const command = JobSet.make(
  { command: "dead", set: "dead", title: "the dead set" },
  ["retry", "delete"],
  "List, retry or delete dead jobs (needs --redis)"
)
