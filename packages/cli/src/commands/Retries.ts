/** `effect-jobs retries list|show|retry|delete`: failed jobs waiting for their next attempt. */
import * as JobSet from "../internal/jobSet.ts"

/** The `retries` command group. */
export const command = JobSet.make(
  { command: "retries", set: "retry", title: "the retry set" },
  ["retry", "delete"],
  "List failed jobs waiting for a retry; retry them now or delete them (needs --redis)"
)
