/**
 * The scenarios: what each run does, what it measures, and the sizes of a full and a quick
 * run. Each variant runs once per system per repeat on a freshly emptied Redis.
 *
 * Measurement windows: a producer's own clock from `go` to its last reply; a drain from the
 * parent's `go` to the moment the parent sees no job left unsettled (polled every 5 ms);
 * Redis CPU over the same window (`INFO cpu`); a child's CPU from its `go` to its result (a
 * worker's to `stop`, sent once the run is settled: graceful shutdown is not measured).
 */

import { unsettledJobs, waitingJobs, waitSettled } from "./probes.ts"
import { nowMillis, type ProducerWork, type SystemName } from "./protocol.ts"
import type { RedisServer } from "./redis.ts"
import type { ProducerChild, WorkerChild } from "./spawn.ts"

/** How big each scenario is. */
export interface Sizes {
  readonly repeats: number
  readonly enqueueJobs: number
  readonly enqueueInFlight: number
  readonly enqueueChunk: number
  readonly drainJobs: number
  readonly drainConcurrency: ReadonlyArray<number>
  readonly latencyRates: ReadonlyArray<number>
  readonly latencySeconds: number
  readonly latencyConcurrency: number
  readonly scheduledJobs: number
  readonly scheduledSpreadMillis: number
  readonly scheduledLeadMillis: number
  readonly retryJobs: number
  readonly retryConcurrency: number
  readonly scaleJobs: number
  readonly scaleWorkers: ReadonlyArray<number>
  readonly scaleConcurrency: number
  /** Jobs waiting when the start-up row's worker process is started. */
  readonly startupJobs: number
  /** Longest a run may take before it is failed. */
  readonly runTimeoutMillis: number
  /**
   * Whether Sidekiq runs the scheduled and retry scenarios. Both wait on its poller (10–15 s
   * before the first poll, retries due 15 s or more later), longer than all of `--quick`.
   */
  readonly sidekiqPollerRows: boolean
}

export const fullSizes: Sizes = {
  repeats: 3,
  enqueueJobs: 100_000,
  enqueueInFlight: 100,
  enqueueChunk: 1_000,
  drainJobs: 100_000,
  drainConcurrency: [1, 25, 100],
  latencyRates: [1_000, 10_000],
  latencySeconds: 20,
  latencyConcurrency: 50,
  scheduledJobs: 1_000,
  scheduledSpreadMillis: 5_000,
  scheduledLeadMillis: 1_000,
  retryJobs: 10_000,
  retryConcurrency: 50,
  scaleJobs: 100_000,
  scaleWorkers: [1, 2, 4],
  scaleConcurrency: 25,
  startupJobs: 100,
  runTimeoutMillis: 300_000,
  sidekiqPollerRows: true
}

export const quickSizes: Sizes = {
  repeats: 1,
  enqueueJobs: 2_000,
  enqueueInFlight: 100,
  enqueueChunk: 1_000,
  drainJobs: 2_000,
  drainConcurrency: [1, 25, 100],
  latencyRates: [1_000, 10_000],
  latencySeconds: 0.5,
  latencyConcurrency: 50,
  scheduledJobs: 200,
  scheduledSpreadMillis: 500,
  scheduledLeadMillis: 300,
  retryJobs: 1_000,
  retryConcurrency: 50,
  scaleJobs: 2_000,
  scaleWorkers: [1, 2, 4],
  scaleConcurrency: 25,
  startupJobs: 100,
  runTimeoutMillis: 60_000,
  sidekiqPollerRows: false
}

/** Scenario names for `--only`. */
export const scenarioNames = ["enqueue", "drain", "latency", "scheduled", "retry", "scaleout", "startup"] as const
export type ScenarioName = (typeof scenarioNames)[number]

/** A number a run reports, and which way is better. */
export interface MetricDef {
  readonly key: string
  readonly label: string
  readonly better: "higher" | "lower"
  readonly format: (value: number) => string
}

const whole = (n: number) => Math.round(n).toLocaleString("en-US")
const fixed = (digits: number) => (n: number) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const m = {
  rate: { key: "rate", label: "jobs/s", better: "higher", format: whole },
  workerCpu: { key: "workerCpu", label: "worker CPU s", better: "lower", format: fixed(2) },
  producerCpu: { key: "producerCpu", label: "producer CPU s", better: "lower", format: fixed(2) },
  redisCpu: { key: "redisCpu", label: "redis-server CPU s", better: "lower", format: fixed(2) },
  peakRss: { key: "peakRssMB", label: "worker peak RSS MB", better: "lower", format: fixed(1) },
  heapAfterGc: { key: "heapAfterGcMB", label: "worker heap after GC MB", better: "lower", format: fixed(1) },
  redisMemory: { key: "redisMBper100k", label: "Redis MB / 100k waiting", better: "lower", format: fixed(1) },
  p50: { key: "p50", label: "p50 ms", better: "lower", format: fixed(2) },
  p95: { key: "p95", label: "p95 ms", better: "lower", format: fixed(2) },
  p99: { key: "p99", label: "p99 ms", better: "lower", format: fixed(2) },
  max: { key: "max", label: "max ms", better: "lower", format: fixed(2) },
  achieved: { key: "achievedRate", label: "enqueued/s reached", better: "higher", format: whole },
  enqueueP99: { key: "enqueueP99", label: "of which enqueue reply p99 ms", better: "lower", format: fixed(2) },
  firstJob: { key: "firstJobMs", label: "start to first job ms", better: "lower", format: whole },
  firstJobCpu: { key: "firstJobCpu", label: "CPU s to first job", better: "lower", format: fixed(2) },
  firstJobRss: { key: "firstJobRssMB", label: "RSS at first job MB", better: "lower", format: fixed(1) }
} satisfies Record<string, MetricDef>

/** What one run of a variant measured. */
export interface RunOutcome {
  readonly metrics: Record<string, number>
  /** Raw results of the children and Redis counters, kept in the JSON. */
  readonly detail: Record<string, unknown>
  /** Things that should not happen (lost or duplicated runs). */
  readonly notes: ReadonlyArray<string>
}

/** What a run may use. */
export interface Bench {
  readonly server: RedisServer
  readonly sizes: Sizes
  /** Starts a producer child and waits until it is connected. */
  readonly producer: (system: SystemName, work: ProducerWork, label: string) => Promise<ProducerChild>
  /**
   * Starts one worker process that claims at once (effect-jobs: the `effect-jobs worker`
   * binary; others: their worker child with `startAtOnce`); does not wait for it.
   */
  readonly startWorker: (system: SystemName, concurrency: number, label: string) => WorkerChild
  /** Starts worker children and waits until they are connected. */
  readonly workers: (
    system: SystemName,
    count: number,
    concurrency: number,
    label: string
  ) => Promise<Array<WorkerChild>>
}

export interface Variant {
  readonly scenario: ScenarioName
  readonly section: string
  readonly id: string
  readonly title: string
  readonly metrics: ReadonlyArray<MetricDef>
  /** Absent for rows that only show runs of other variants (`from`). */
  readonly run?: ((system: SystemName, bench: Bench) => Promise<RunOutcome>) | undefined
  /** Why this system does not run this variant at these sizes; `undefined`: it runs. */
  readonly skip?: ((system: SystemName) => string | undefined) | undefined
  /**
   * Variants whose runs this row shows. With `run` too: shown instead of running when one of
   * them is in the plan (the same measurement under another heading).
   */
  readonly from?: ReadonlyArray<string> | undefined
}

const mb = (bytes: number) => bytes / (1024 * 1024)

/** Parses `INFO commandstats` into calls and µs per command. */
const commandStats = async (server: RedisServer) => {
  const info = await server.admin.info("commandstats")
  const stats: Record<string, { calls: number; usec: number }> = {}
  for (const [key, value] of info) {
    if (!key.startsWith("cmdstat_")) continue
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0)
    const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0)
    stats[key.slice("cmdstat_".length)] = { calls, usec }
  }
  return stats
}

/** Stops workers, collecting their results. */
const stopAll = async (workers: ReadonlyArray<WorkerChild>, timeoutMillis: number) => {
  for (const w of workers) w.send({ type: "stop" })
  const results = await Promise.all(workers.map((w) => w.result(timeoutMillis)))
  await Promise.all(workers.map((w) => w.exited()))
  return results
}

/** Runs a started producer to the end; returns its result and Redis CPU used meanwhile. */
const runProducer = async (bench: Bench, producer: ProducerChild) => {
  const memoryBefore = await bench.server.admin.usedMemory()
  await bench.server.admin.command("CONFIG", "RESETSTAT")
  const cpuBefore = await bench.server.admin.cpuSeconds()
  producer.send({ type: "go" })
  const result = await producer.result(bench.sizes.runTimeoutMillis)
  const redisCpu = (await bench.server.admin.cpuSeconds()) - cpuBefore
  const commands = await commandStats(bench.server)
  await producer.exited()
  const memoryAfter = await bench.server.admin.usedMemory()
  return { result, redisCpu, memoryBytes: memoryAfter - memoryBefore, commands }
}

/** Starts a producer and runs it to the end. */
const produce = async (bench: Bench, system: SystemName, work: ProducerWork, label: string) =>
  runProducer(bench, await bench.producer(system, work, label))

const enqueueVariant = (id: string, title: string, work: (sizes: Sizes) => ProducerWork): Variant => ({
  scenario: "enqueue",
  section: "1. enqueue",
  id: `enqueue/${id}`,
  title,
  metrics: [m.rate, m.producerCpu, m.redisCpu],
  run: async (system, bench) => {
    const w = work(bench.sizes)
    const { commands, redisCpu, result } = await produce(bench, system, w, `${system} producer (${id})`)
    const waiting = await waitingJobs(bench.server.admin, system)
    const expected = "count" in w ? w.count : 0
    return {
      metrics: { rate: result.rate, producerCpu: result.cpuSeconds, redisCpu },
      detail: { producer: result, waiting, commandstats: commands },
      notes: waiting === expected ? [] : [`${waiting.toLocaleString()} jobs waiting after enqueueing ${expected}`]
    }
  }
})

/**
 * Pre-enqueues `jobs` in bulk, then drains them with `processes` workers at `concurrency`.
 * Also measures Redis memory per waiting job and `INFO commandstats` of the drain alone.
 */
const drainRun = async (
  system: SystemName,
  bench: Bench,
  options: { jobs: number; processes: number; concurrency: number; failOnce?: boolean; label: string }
): Promise<RunOutcome> => {
  const { jobs, label, processes } = options
  // Children start side by side (each spends most of a second loading its modules); the
  // workers stay idle until `go`, after the preload.
  const [producer, workers] = await Promise.all([
    bench.producer(
      system,
      { kind: "bulk", count: jobs, chunk: 1_000, job: options.failOnce ? "failOnce" : "noop" },
      `${system} preload (${label})`
    ),
    bench.workers(system, processes, options.concurrency, `${system} worker (${label})`)
  ])
  const preload = await runProducer(bench, producer)
  const waiting = await waitingJobs(bench.server.admin, system)
  await bench.server.admin.command("CONFIG", "RESETSTAT")
  const cpuBefore = await bench.server.admin.cpuSeconds()
  const start = nowMillis()
  for (const w of workers) w.send({ type: "go" })
  let settledAt: number
  try {
    settledAt = await waitSettled(bench.server.admin, system, bench.sizes.runTimeoutMillis)
  } catch (error) {
    for (const w of workers) w.kill()
    throw error
  }
  const millis = settledAt - start
  const redisCpu = (await bench.server.admin.cpuSeconds()) - cpuBefore
  const commands = await commandStats(bench.server)
  const results = await stopAll(workers, 60_000)
  const runs = results.reduce((n, r) => n + r.runs, 0)
  const expectedRuns = options.failOnce ? 2 * jobs : jobs
  // Jobs a worker put back while stopping, or the settled check missed.
  const left = await unsettledJobs(bench.server.admin, system)
  const notes: Array<string> = []
  if (waiting !== jobs) notes.push(`${waiting} of ${jobs} jobs were waiting after the preload`)
  if (runs !== expectedRuns) notes.push(`${runs} handler runs, expected ${expectedRuns}`)
  if (left !== 0) notes.push(`${left} job(s) unsettled after the workers stopped`)
  return {
    metrics: {
      rate: jobs / (millis / 1000),
      workerCpu: results.reduce((s, r) => s + r.cpuSeconds, 0),
      redisCpu,
      peakRssMB: mb(Math.max(...results.map((r) => r.peakRssBytes))),
      // Not measured for Sidekiq (its Ruby heap is not a V8 heap): NaN, shown as "–".
      heapAfterGcMB: mb(Math.max(...results.map((r) => r.heapAfterGcBytes ?? Number.NaN))),
      redisMBper100k: (mb(preload.memoryBytes) / jobs) * 100_000
    },
    detail: {
      millis,
      runs,
      left,
      preload: { ...preload.result, redisCpu: preload.redisCpu, memoryBytes: preload.memoryBytes },
      workers: results,
      commandstats: commands
    },
    notes
  }
}

/**
 * Starts a worker first (idle, waiting for work), then a producer; waits until everything
 * the producer wrote is settled, and reports the worker's pickup or lateness distribution.
 */
const liveRun = async (
  system: SystemName,
  bench: Bench,
  options: { work: ProducerWork; concurrency: number; measure: "pickup" | "lateness"; label: string }
): Promise<RunOutcome> => {
  const [[worker], producer] = await Promise.all([
    bench.workers(system, 1, options.concurrency, `${system} worker (${options.label})`),
    bench.producer(system, options.work, `${system} producer (${options.label})`)
  ])
  await bench.server.admin.command("CONFIG", "RESETSTAT")
  const cpuBefore = await bench.server.admin.cpuSeconds()
  worker!.send({ type: "go" })
  let producerResult: Awaited<ReturnType<typeof runProducer>>
  try {
    producerResult = await runProducer(bench, producer)
    await waitSettled(bench.server.admin, system, bench.sizes.runTimeoutMillis)
  } catch (error) {
    worker!.kill()
    throw error
  }
  const redisCpu = (await bench.server.admin.cpuSeconds()) - cpuBefore
  const commands = await commandStats(bench.server)
  const [result] = await stopAll([worker!], 60_000)
  const d = result![options.measure]
  const written = producerResult.result.written
  const notes: Array<string> = []
  if (result!.firstRuns !== written) notes.push(`${result!.firstRuns} first runs for ${written} jobs written`)
  if (result!.runs !== result!.firstRuns) notes.push(`${result!.runs - result!.firstRuns} repeated run(s)`)
  return {
    metrics: {
      p50: d.p50,
      p95: d.p95,
      p99: d.p99,
      max: d.max,
      enqueueP99: producerResult.result.enqueueLatency.p99,
      achievedRate: producerResult.result.rate,
      workerCpu: result!.cpuSeconds,
      producerCpu: producerResult.result.cpuSeconds,
      redisCpu
    },
    detail: {
      producer: producerResult.result,
      worker: result,
      left: await unsettledJobs(bench.server.admin, system),
      // Producer and worker together, from the worker's `go` to settled.
      commandstats: commands
    },
    notes
  }
}

const fmt = (n: number) => n.toLocaleString("en-US")

/**
 * Preloads jobs, then starts a worker process and waits for its first handler run: what a user
 * waits for when a container or autoscaled process starts. Process start to handler start
 * (wall clock), and the process's CPU and RSS at that moment, loading modules included.
 */
const startupRun = async (system: SystemName, bench: Bench): Promise<RunOutcome> => {
  const jobs = bench.sizes.startupJobs
  const producer = await bench.producer(system, { kind: "bulk", count: jobs, chunk: 1_000, job: "noop" }, "preload")
  await runProducer(bench, producer)
  const spawnedAt = nowMillis()
  const worker = bench.startWorker(system, 25, `${system} worker (start-up)`)
  try {
    const first = await worker.first(bench.sizes.runTimeoutMillis)
    return {
      metrics: { firstJobMs: first.at - spawnedAt, firstJobCpu: first.cpuSeconds, firstJobRssMB: mb(first.rssBytes) },
      detail: { first },
      notes: []
    }
  } finally {
    worker.kill()
    await worker.exited()
  }
}

/** Skips Sidekiq in scenarios that wait on its poller, when the sizes say so. */
const pollerBound = (sizes: Sizes) => (system: SystemName) =>
  system === "sidekiq" && !sizes.sidekiqPollerRows
    ? "Sidekiq's poller starts 10–15 s late and its retries come 15 s or more later: only the full run has this row"
    : undefined

/** Every variant, in table order, for these sizes. */
export const variants = (sizes: Sizes): ReadonlyArray<Variant> => [
  enqueueVariant("sequential", `one at a time, awaited (${fmt(sizes.enqueueJobs)})`, (s) => ({
    kind: "sequential",
    count: s.enqueueJobs
  })),
  enqueueVariant("concurrent", `${sizes.enqueueInFlight} in flight (${fmt(sizes.enqueueJobs)})`, (s) => ({
    kind: "concurrent",
    count: s.enqueueJobs,
    inFlight: s.enqueueInFlight
  })),
  enqueueVariant("bulk", `bulk, chunks of ${fmt(sizes.enqueueChunk)} (${fmt(sizes.enqueueJobs)})`, (s) => ({
    kind: "bulk",
    count: s.enqueueJobs,
    chunk: s.enqueueChunk,
    job: "noop"
  })),
  ...sizes.drainConcurrency.map(
    (concurrency): Variant => ({
      scenario: "drain",
      section: "2. drain",
      id: `drain/c${concurrency}`,
      title: `${fmt(sizes.drainJobs)} jobs, 1 process, concurrency ${concurrency}`,
      metrics: [m.rate, m.workerCpu, m.redisCpu, m.peakRss],
      run: (system, bench) =>
        drainRun(system, bench, { jobs: sizes.drainJobs, processes: 1, concurrency, label: `c=${concurrency}` })
    })
  ),
  ...sizes.latencyRates.map(
    (rate): Variant => ({
      scenario: "latency",
      section: "3. pickup latency",
      id: `latency/${rate}`,
      title: `${fmt(rate)} jobs/s for ${sizes.latencySeconds} s, concurrency ${sizes.latencyConcurrency}`,
      metrics: [m.p50, m.p95, m.p99, m.max, m.enqueueP99, m.achieved, m.workerCpu, m.producerCpu, m.redisCpu],
      run: (system, bench) =>
        liveRun(system, bench, {
          work: { kind: "steady", rate, seconds: sizes.latencySeconds },
          concurrency: sizes.latencyConcurrency,
          measure: "pickup",
          label: `${rate}/s`
        })
    })
  ),
  {
    scenario: "scheduled",
    section: "4. scheduled lateness",
    skip: pollerBound(sizes),
    id: "scheduled",
    title: `${fmt(sizes.scheduledJobs)} jobs due over ${sizes.scheduledSpreadMillis / 1000} s`,
    metrics: [m.p50, m.p99, m.max, m.workerCpu, m.redisCpu],
    run: (system, bench) =>
      liveRun(system, bench, {
        work: {
          kind: "scheduled",
          count: sizes.scheduledJobs,
          leadMillis: sizes.scheduledLeadMillis,
          spreadMillis: sizes.scheduledSpreadMillis,
          inFlight: 100
        },
        concurrency: sizes.latencyConcurrency,
        measure: "lateness",
        label: "scheduled"
      })
  },
  {
    scenario: "retry",
    section: "5. retry path",
    skip: pollerBound(sizes),
    id: "retry",
    title: `${fmt(sizes.retryJobs)} jobs failing once, retried after 1 ms, concurrency ${sizes.retryConcurrency}`,
    metrics: [m.rate, m.workerCpu, m.redisCpu],
    run: (system, bench) =>
      drainRun(system, bench, {
        jobs: sizes.retryJobs,
        processes: 1,
        concurrency: sizes.retryConcurrency,
        failOnce: true,
        label: "retry"
      })
  },
  ...sizes.drainConcurrency.map(
    (c): Variant => ({
      scenario: "drain",
      section: "6. memory",
      id: `memory/rss-c${c}`,
      title: `worker peak RSS while draining at concurrency ${c} (runs of 2.)`,
      metrics: [m.peakRss, m.heapAfterGc],
      from: [`drain/c${c}`]
    })
  ),
  {
    scenario: "drain",
    section: "6. memory",
    id: "memory/redis",
    title: `Redis used_memory per 100,000 waiting jobs (the preloads of 2.)`,
    metrics: [m.redisMemory],
    from: sizes.drainConcurrency.map((c) => `drain/c${c}`)
  },
  ...sizes.scaleWorkers.map((processes): Variant => {
    // One process at the drain's size and concurrency is drain/cN itself: not run twice.
    const same =
      processes === 1 && sizes.scaleJobs === sizes.drainJobs && sizes.drainConcurrency.includes(sizes.scaleConcurrency)
    return {
      scenario: "scaleout",
      section: "7. scale-out",
      id: `scaleout/${processes}`,
      from: same ? [`drain/c${sizes.scaleConcurrency}`] : undefined,
      title:
        `${fmt(sizes.scaleJobs)} jobs, ${processes} process${processes === 1 ? "" : "es"} × concurrency ` +
        `${sizes.scaleConcurrency}${same ? " (the runs of 2. when it ran)" : ""}`,
      metrics: [m.rate, m.workerCpu, m.redisCpu],
      run: (system, bench) =>
        drainRun(system, bench, {
          jobs: sizes.scaleJobs,
          processes,
          concurrency: sizes.scaleConcurrency,
          label: `${processes} processes`
        })
    }
  }),
  {
    scenario: "startup",
    section: "8. start-up",
    id: "startup",
    title: `a worker process started with ${fmt(sizes.startupJobs)} jobs waiting (effect-jobs: the effect-jobs worker binary)`,
    skip: (system) =>
      system === "sidekiq" ? "its worker is a Ruby process started by a Node child: not comparable" : undefined,
    metrics: [m.firstJob, m.firstJobCpu, m.firstJobRss],
    run: (system, bench) => startupRun(system, bench)
  }
]
