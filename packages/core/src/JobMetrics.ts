/**
 * The Effect metrics every worker and client records, each attributed with `job` and `queue`.
 * Export them with any Effect metrics exporter (Prometheus, OTLP).
 */
import * as Metric from "effect/Metric"

/** Jobs written by clients (duplicates excluded). */
export const enqueued = Metric.counter("effect_jobs_enqueued_total", { description: "Jobs enqueued" })
/** Attempts that succeeded. */
export const processed = Metric.counter("effect_jobs_processed_total", { description: "Jobs completed" })
/** Attempts that failed (typed failure, defect or timeout). */
export const failed = Metric.counter("effect_jobs_failed_total", { description: "Job attempts failed" })
/** Jobs scheduled for another attempt. */
export const retried = Metric.counter("effect_jobs_retried_total", { description: "Jobs scheduled to retry" })
/** Jobs moved to the dead set. */
export const dead = Metric.counter("effect_jobs_dead_total", { description: "Jobs moved to the dead set" })
/** How long handlers ran. */
export const runDuration = Metric.timer("effect_jobs_run_duration", { description: "Handler run time" })
/** How long jobs waited between becoming due and being claimed. */
export const queueLatency = Metric.timer("effect_jobs_queue_latency", { description: "Due-to-start latency" })
