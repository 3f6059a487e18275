/**
 * Seed 004, "callbacks and jobs", as an effect-jobs program.
 *
 * The existing app is plain Node (`node:http`, no Effect): `POST /donations` saves the
 * donation and, in its "after save" callback, enqueues `UpdateDonorEmailRecord` through the
 * promise facade `PromiseClient`. The facade pipelines: enqueues issued by concurrent requests
 * in the same tick are written with one store call, so enqueueing adds little to a request.
 *
 * The Effect worker runs embedded in the same process as a Layer on its own
 * `ManagedRuntime`: it is started before the server listens and stopped after it closes
 * (SIGINT / SIGTERM close the server, then the facade, then the worker's runtime). Both
 * runtimes share one memo map, so they share one store.
 *
 * The program then fires N donations at itself (`--requests 200`, `--in-flight 20`), waits
 * until every background update ran, prints the median and p99 time the enqueue added to a
 * request and the total, and exits 0. Store: memory by default, Redis with `--redis <url>`
 * or `REDIS_URL` (keys under a fresh `effect-jobs-donations-<pid>` prefix).
 */
import { once } from "node:events"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import { JobError, JobWorker, MemoryBackend, PromiseClient } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import { Effect, Layer, ManagedRuntime } from "effect"
import { UpdateDonorEmailRecord } from "./donations/jobs.ts"

// ---------------------------------------------------------------------------------------
// Settings

const argValue = (name: string): string | undefined => {
  const index = process.argv.indexOf(name)
  if (index < 0) return undefined
  const value = process.argv[index + 1]
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`)
  return value
}
const redisUrl =
  argValue("--redis") ??
  (process.env.REDIS_URL === undefined || process.env.REDIS_URL === "" ? undefined : process.env.REDIS_URL)
const requests = Number(argValue("--requests") ?? 200)
const inFlight = Number(argValue("--in-flight") ?? 20)

// ---------------------------------------------------------------------------------------
// The "email provider": what the background job keeps up to date

interface EmailRecord {
  readonly email: string
  totalCents: number
  readonly donations: Set<string>
}
const emailRecords = new Map<string, EmailRecord>()
const updated = new Set<string>()

// ---------------------------------------------------------------------------------------
// The Effect side: store and worker

const backend =
  redisUrl === undefined
    ? MemoryBackend.layer()
    : RedisBackend.layer({ url: redisUrl, prefix: `effect-jobs-donations-${process.pid}` })

const handlers = UpdateDonorEmailRecord.toLayer(function* ({ donationId, email, amountCents }) {
  // A call to the provider's API.
  yield* Effect.sleep("5 millis")
  const record = emailRecords.get(email) ?? { email, totalCents: 0, donations: new Set<string>() }
  if (!record.donations.has(donationId)) {
    record.donations.add(donationId)
    record.totalCents += amountCents
  }
  emailRecords.set(email, record)
  updated.add(donationId)
})

const workerLayer = JobWorker.layer({ concurrency: 20, shutdownTimeout: "5 seconds" }).pipe(
  Layer.provide(handlers),
  Layer.provide(backend)
)

// ---------------------------------------------------------------------------------------
// The existing (non-Effect) app

interface Donation {
  readonly id: string
  readonly donor: string
  readonly email: string
  readonly amountCents: number
}

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString("utf8"))
}

const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

const makeApp = (jobs: PromiseClient.PromiseClient) => {
  const donations = new Map<string, Donation>()
  const enqueueMillis: Array<number> = []
  let nextId = 1

  /** The model's "after save" callback. */
  const afterSave = async (donation: Donation) => {
    const started = performance.now()
    try {
      await jobs.enqueue(UpdateDonorEmailRecord, {
        donationId: donation.id,
        email: donation.email,
        amountCents: donation.amountCents
      })
    } finally {
      enqueueMillis.push(performance.now() - started)
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || req.url !== "/donations") return reply(res, 404, { error: "not found" })
    const body = (await readJson(req)) as { donor?: unknown; email?: unknown; amountCents?: unknown }
    const donation: Donation = {
      id: `donation-${nextId++}`,
      donor: String(body.donor ?? ""),
      email: String(body.email ?? ""),
      amountCents: Number(body.amountCents)
    }
    donations.set(donation.id, donation)
    try {
      await afterSave(donation)
    } catch (error) {
      donations.delete(donation.id)
      if (error instanceof JobError.InvalidPayload) return reply(res, 422, { error: error.message })
      throw error
    }
    reply(res, 201, { id: donation.id })
  }

  const server = createServer((req, res) => {
    if (stopping !== undefined) {
      // Shutting down: refuse, and drop the keep-alive connection so `close` can finish.
      res.setHeader("connection", "close")
      return reply(res, 503, { error: "shutting down" })
    }
    handle(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }))
  })
  return { server, donations, enqueueMillis }
}

// ---------------------------------------------------------------------------------------
// Load: N donations at once, `inFlight` at a time

const fireDonations = async (port: number, ids: Array<string>) => {
  let next = 0
  const one = async (n: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/donations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ donor: `Donor ${n % 50}`, email: `donor${n % 50}@example.org`, amountCents: 500 + n })
    })
    const body = (await response.json()) as { id?: string; error?: string }
    if (response.status !== 201 || body.id === undefined)
      throw new Error(`request ${n}: ${response.status} ${body.error}`)
    ids.push(body.id)
  }
  const lane = async () => {
    while (next < requests) await one(next++)
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, requests) }, lane))
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN

let stopping: Promise<void> | undefined

const main = async () => {
  console.log(redisUrl === undefined ? "store: in memory (embedded)" : "store: Redis")
  const memoMap = Layer.makeMemoMapUnsafe()

  // 1. Start the worker, then the facade (one store between them), then the server.
  const workerRuntime = ManagedRuntime.make(workerLayer, { memoMap })
  await workerRuntime.context()
  const jobs = await PromiseClient.make(backend, { memoMap })
  const { server, donations, enqueueMillis } = makeApp(jobs)
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const port = (server.address() as AddressInfo).port
  const stop = () => {
    stopping ??= (async () => {
      // Stop accepting; requests already in progress finish (cut after 2 s).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Keep-alive connections turn idle as their last response goes out: drop them then.
      const idle = setInterval(() => server.closeIdleConnections(), 20)
      const cut = setTimeout(() => server.closeAllConnections(), 2000)
      await closed
      clearInterval(idle)
      clearTimeout(cut)
      await jobs.close()
      await workerRuntime.dispose()
      console.log("shutdown: server closed, then the jobs client, then the worker")
    })()
    return stopping
  }
  const onSignal = () => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  // Announced once the signals are handled: a SIGTERM right after this line shuts down gracefully.
  console.log(`listening on http://127.0.0.1:${port}, worker running`)

  // 2. Fire the donations and wait for the background updates.
  const started = performance.now()
  const ids: Array<string> = []
  await fireDonations(port, ids)
  const responded = performance.now() - started
  const deadline = Date.now() + 30_000
  while (updated.size < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const total = performance.now() - started

  // 3. Report.
  const sorted = [...enqueueMillis].sort((a, b) => a - b)
  const missing = ids.filter((id) => !updated.has(id) || !emailRecords.get(donations.get(id)!.email)?.donations.has(id))
  console.log(
    `enqueue time added to a request: median ${percentile(sorted, 50).toFixed(3)} ms, ` +
      `p99 ${percentile(sorted, 99).toFixed(3)} ms (${sorted.length} requests, ${inFlight} in flight)`
  )
  console.log(
    `all ${ids.length} responses in ${responded.toFixed(0)} ms; background updates done at ${total.toFixed(0)} ms`
  )
  console.log(
    `email records updated: ${ids.length - missing.length} of ${ids.length} donations (${emailRecords.size} donors)`
  )

  await stop()
  process.off("SIGINT", onSignal)
  process.off("SIGTERM", onSignal)
  if (missing.length > 0 || ids.length !== requests) {
    console.error(`not updated: ${missing.slice(0, 10).join(", ")}`)
    process.exit(1)
  }
  process.exit(0)
}

main().catch(async (error: unknown) => {
  // Load cut short by a signal: the shutdown under way decides the exit code.
  if (stopping !== undefined) return
  console.error(error)
  process.exit(1)
})
