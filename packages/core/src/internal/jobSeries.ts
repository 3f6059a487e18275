/**
 * One job's metric series: the `JobMetrics` attributed with its `job` and `queue`, updated on
 * every run without a context step per update.
 *
 * `Metric.withAttributes` adds the attributes to the context on each update (a new context per
 * update, on every job's path). A series instead keeps its own metrics, each carrying the job's
 * attributes, and a small context of just the metric registry and the merged attributes, built
 * again only when the worker's registry or app attributes change (they are one object each for
 * the life of a worker). The series keys are the same as `withAttributes` gives, and so is the
 * precedence: the job's `job` and `queue` win over the app's own attributes of those names
 * (Prometheus setups often label every series with a `job` of their own).
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Metric from "effect/Metric"
import * as JobMetrics from "../JobMetrics.ts"

/** A job's metrics; each update takes the context that `context` returned for the run. */
export interface JobSeries {
  readonly processed: Metric.Counter<number>
  readonly failed: Metric.Counter<number>
  readonly retried: Metric.Counter<number>
  readonly dead: Metric.Counter<number>
  readonly runDuration: Metric.Metric<Duration.Duration, Metric.HistogramState>
  readonly queueLatency: Metric.Metric<Duration.Duration, Metric.HistogramState>
  /** The context to update this series with, for a run whose context is `from`. */
  readonly context: (from: Context.Context<never>) => Context.Context<never>
}

export const make = (attributes: { readonly job: string; readonly queue: string }): JobSeries => {
  let registry: Metric.MetricRegistry | undefined
  let appAttributes: Readonly<Record<string, string>> | undefined
  let context: Context.Context<never> = Context.empty()
  // The same ids, descriptions and boundaries as `JobMetrics`: the series are the same series.
  const counter = (metric: Metric.Counter<number>) =>
    Metric.counter(metric.id, { description: metric.description, attributes })
  return {
    processed: counter(JobMetrics.processed),
    failed: counter(JobMetrics.failed),
    retried: counter(JobMetrics.retried),
    dead: counter(JobMetrics.dead),
    runDuration: Metric.timer(JobMetrics.runDuration.id, {
      description: JobMetrics.runDuration.description,
      attributes
    }),
    queueLatency: Metric.timer(JobMetrics.queueLatency.id, {
      description: JobMetrics.queueLatency.description,
      attributes
    }),
    context: (from) => {
      const currentRegistry = Context.get(from, Metric.MetricRegistry)
      const currentAttributes = Context.get(from, Metric.CurrentMetricAttributes)
      if (currentRegistry !== registry || currentAttributes !== appAttributes) {
        registry = currentRegistry
        appAttributes = currentAttributes
        // A metric's context attributes win over its own: the job's go last so they win here.
        const merged = { ...currentAttributes, job: attributes.job, queue: attributes.queue }
        context = Context.make(Metric.MetricRegistry, currentRegistry).pipe(
          Context.add(Metric.CurrentMetricAttributes, merged)
        )
      }
      return context
    }
  }
}
