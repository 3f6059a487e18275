/**
 * The Effect metrics every worker and client records, each attributed with `job` and `queue`.
 * Export them with any Effect metrics exporter (Prometheus, OTLP).
 */
import { Metric } from "effect"

/** The attributes of every series: which job name on which queue. */
export type JobAttributes = { readonly job: string; readonly queue: string }

const counter = (name: string, description: string, attributes?: JobAttributes) =>
  Metric.counter(name, { description, attributes })
const timer = (name: string, description: string, attributes?: JobAttributes) =>
  Metric.timer(name, { description, attributes })

const definitions = (attributes?: JobAttributes) => ({
  enqueued: counter("effect_jobs_enqueued_total", "Jobs enqueued", attributes),
  processed: counter("effect_jobs_processed_total", "Jobs completed", attributes),
  failed: counter("effect_jobs_failed_total", "Job attempts failed", attributes),
  retried: counter("effect_jobs_retried_total", "Jobs scheduled to retry", attributes),
  dead: counter("effect_jobs_dead_total", "Jobs moved to the dead set", attributes),
  runDuration: timer("effect_jobs_run_duration", "Handler run time", attributes),
  queueLatency: timer("effect_jobs_queue_latency", "Due-to-start latency", attributes)
})

const unattributed = definitions()

/** Jobs written by clients (duplicates excluded). */
export const enqueued = unattributed.enqueued
/** Attempts that succeeded. */
export const processed = unattributed.processed
/** Attempts that failed (typed failure, defect or timeout). */
export const failed = unattributed.failed
/** Jobs scheduled for another attempt. */
export const retried = unattributed.retried
/** Jobs moved to the dead set. */
export const dead = unattributed.dead
/** How long handlers ran. */
export const runDuration = unattributed.runDuration
/** How long jobs waited between becoming due and being claimed. */
export const queueLatency = unattributed.queueLatency

/**
 * The metrics above for one job name on one queue: the same series as
 * `Metric.withAttributes(metric, attributes)`, built with their attributes instead, which
 * saves a context step on every update (the worker updates three per job). Build once per
 * job name and queue, not per update.
 */
export const forJob = (attributes: JobAttributes) => definitions(attributes)
