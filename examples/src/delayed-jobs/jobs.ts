/** The job definitions of the seed 003 tour: what producers import. */
import { Job, RetryPolicy } from "@effect-jobs/core"
import { Schema } from "effect"

/** Slow processing of a new post (the tutorial's `sleep 10` in the controller). */
export const ProcessPost = Job.make("ProcessPost", { payload: { postId: Schema.Number } })

/** The tutorial's DemoWorker: a little work, many times. */
export const DemoWork = Job.make("DemoWork", { payload: { n: Schema.Number } })

/** A typed failure of the flaky upstream. */
export class UpstreamDown extends Schema.TaggedError<UpstreamDown>()("UpstreamDown", {
  message: Schema.String
}) {}

/** Always fails: retried twice with a short backoff, then dead (`sidekiq_options retry: 2`). */
export const Flaky = Job.make("Flaky", {
  payload: { url: Schema.String },
  error: UpstreamDown,
  retry: RetryPolicy.exponential({ maxRetries: 2, base: "200 millis", jitter: 0 })
})

/** Sent later (perform_in). */
export const Reminder = Job.make("Reminder", { payload: { userId: Schema.Number } })

/** Fills the default queue. */
export const SlowDefault = Job.make("SlowDefault", { payload: { n: Schema.Number } })

/** Must not wait behind the default queue (`sidekiq_options queue: :urgent, retry: false`). */
export const Urgent = Job.make("Urgent", { payload: { message: Schema.String }, queue: "urgent", retry: false })
