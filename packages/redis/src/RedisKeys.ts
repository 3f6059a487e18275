/**
 * The Redis key layout: every key effect-jobs writes is built here, nowhere else.
 *
 * Each queue's keys share one hash tag, `<prefix>:{<queue>}:…`, so every script touches a
 * single slot and the store works on Redis Cluster. Keys that belong to no queue live under
 * tags a queue name cannot take (`{@index}`, `{@processes}`: queue names have no `@`).
 *
 * | key                          | type   | holds                                                          |
 * | ---------------------------- | ------ | -------------------------------------------------------------- |
 * | `P:{q}:ready`                | list   | ids of ready jobs, head first                                  |
 * | `P:{q}:scheduled`            | zset   | scheduled ids by due time (see `timeScore` in the Lua)         |
 * | `P:{q}:retry`                | zset   | ids waiting for a retry, by due time                           |
 * | `P:{q}:leases`               | zset   | claimed ids by lease deadline (ms); the encoding marker        |
 * | `P:{q}:dead`                 | zset   | dead ids by time of death                                      |
 * | `P:{q}:completed`            | zset   | completed ids kept by retention, by completion time            |
 * | `P:{q}:meta`                 | hash   | id → `state:attempt:claims:enqueuedAt:runAt:diedAt:name`       |
 * | `P:{q}:payload`              | hash   | id → payload JSON text, byte for byte as the client wrote it¹  |
 * | `P:{q}:token`                | hash   | id → lease token while leased; the encoding marker (below)     |
 * | `P:{q}:errors`               | hash   | id → failed attempts, one JSON text per line                   |
 * | `P:{q}:reason`               | hash   | id → why the job is dead                                       |
 * | `P:{q}:stats`                | hash   | `processed`, `failed` counters, `seq` and `claims` sequences   |
 * | `P:{q}:paused`               | string | present while the queue is paused                              |
 * | `P:{q}:replay:0`, `:replay:1`| hash   | what recent transitions answered, for replays (a period each)  |
 * | `P:{q}:quarantine`           | hash   | id → time set aside (ms) and why: entries this version cannot  |
 * |                              |        | read, their record, payload and errors kept where they are     |
 * | `P:{@index}:queues`          | set    | every queue name ever written to                               |
 * | `P:{@index}:ids`            | hash   | job id → `<queue>@<reserved at, ms>`; swept by the reaper      |
 * | `P:{@processes}:beats`       | zset   | worker process id → entry expiry (ms)                          |
 * | `P:{@processes}:info`        | hash   | worker process id → `ProcessInfo` JSON                         |
 *
 * ¹ Behind a `\x01<traceparent>\x01` header when the job was enqueued under a traced span
 * (`internal/payloadHeader.ts`).
 *
 * Once a queue has leased a job, `leases` and `token` also hold one marker entry longer than
 * any job id (score `+inf` in `leases`): it keeps both in Redis's hashtable encodings, where
 * the small-key listpack encoding would scan the whole key on every lookup
 * (`lua/includes/encoding.lua`). Counts of leased jobs leave it out.
 *
 * `P:{q}:wake` is a pub/sub channel, not a key: scripts publish on it when they make work
 * ready or move the next due time, and idle workers listen.
 */

/** The keys of one queue, all under the queue's hash tag. */
export interface QueueKeys {
  readonly queue: string
  readonly ready: string
  readonly scheduled: string
  readonly retry: string
  readonly leases: string
  readonly dead: string
  readonly completed: string
  readonly meta: string
  readonly payload: string
  readonly token: string
  readonly errors: string
  readonly reason: string
  readonly stats: string
  readonly paused: string
  /** Replay records of even periods (`lua/includes/replay.lua`). */
  readonly replayA: string
  /** Replay records of odd periods. */
  readonly replayB: string
  /** Entries set aside because this version cannot read their record. */
  readonly quarantine: string
  /** Pub/sub channel for wake-ups. */
  readonly wake: string
}

/** The default key prefix. */
export const defaultPrefix = "ej"

/** The problem with a key prefix, or `undefined` when it is fine. */
export const prefixProblem = (prefix: string): string | undefined =>
  /^[^{}\s]{1,64}$/.test(prefix)
    ? undefined
    : `prefix ${JSON.stringify(prefix)} must be 1-64 characters without braces or spaces (braces are Redis Cluster hash tags)`

/** The keys of `queue` under `prefix`. */
export const queueKeys = (prefix: string, queue: string): QueueKeys => {
  const base = `${prefix}:{${queue}}`
  return {
    queue,
    ready: `${base}:ready`,
    scheduled: `${base}:scheduled`,
    retry: `${base}:retry`,
    leases: `${base}:leases`,
    dead: `${base}:dead`,
    completed: `${base}:completed`,
    meta: `${base}:meta`,
    payload: `${base}:payload`,
    token: `${base}:token`,
    errors: `${base}:errors`,
    reason: `${base}:reason`,
    stats: `${base}:stats`,
    paused: `${base}:paused`,
    replayA: `${base}:replay:0`,
    replayB: `${base}:replay:1`,
    quarantine: `${base}:quarantine`,
    wake: `${base}:wake`
  }
}

/** The set of known queue names (admin operations that take only ids search these). */
export const queuesIndex = (prefix: string): string => `${prefix}:{@index}:queues`

/** Which queue each job id belongs to (ids are unique across queues; see `RedisQueueStore`). */
export const idsIndex = (prefix: string): string => `${prefix}:{@index}:ids`

/** A scratch key the startup checks write to prove the ACL allows scripts on this prefix. */
export const probe = (prefix: string): string => `${prefix}:{@index}:probe`

/** The process registry's keys. */
export interface ProcessKeys {
  readonly beats: string
  readonly info: string
}

/** The keys of the process registry under `prefix`. */
export const processKeys = (prefix: string): ProcessKeys => ({
  beats: `${prefix}:{@processes}:beats`,
  info: `${prefix}:{@processes}:info`
})

/** A key pattern matching every key under `prefix` (for tests and cleanup tools). */
export const pattern = (prefix: string): string => `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`
