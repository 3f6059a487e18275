/**
 * The deliberate breaks `npm run mutate` makes, one at a time. Each names the guarantee it
 * breaks, the edits (a small, stable snippet found exactly once in its file, and what it
 * becomes), and the test files that own the guarantee, in the order to run them.
 *
 * Add an entry whenever a guarantee is added: break it the way a plausible bug would, and list
 * the test that must catch it. A snippet that no longer matches makes the entry "stale" in the
 * report (rewrite it against the current code; never delete it to get a clean run).
 */

import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** One text replacement in one file (paths from the repository root). */
export interface Edit {
  readonly file: string
  /** Must occur exactly once in the file. */
  readonly find: string
  readonly replace: string
}

/** One break. */
export interface Mutation {
  /** Short id, for `npm run mutate -- <id>`. */
  readonly id: string
  /** What the break does, as a reader of the report needs it. */
  readonly what: string
  readonly edits: ReadonlyArray<Edit>
  /** Test files (paths from the root) that must fail while the break is in place. */
  readonly tests: ReadonlyArray<string>
}

const luaDir = "packages/redis/src/lua"
/**
 * A Lua file by its verb (`"reap"` finds `reap-5.lua` whatever its number of KEYS, which
 * changes as scripts grow) or by its path under `lua/` (`"includes/lease.lua"`).
 */
const lua = (name: string) => {
  if (name.endsWith(".lua")) return `${luaDir}/${name}`
  const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
  const found = Fs.readdirSync(Path.join(root, luaDir)).filter((file) => new RegExp(`^${name}-\\d+\\.lua$`).test(file))
  return `${luaDir}/${found[0] ?? `${name}-N.lua`}`
}
const core = (name: string) => `packages/core/src/${name}`

const conformanceMemory = "packages/core/test/QueueStore.memory.test.ts"
const conformanceRedis = "packages/redis/test/QueueStore.redis.test.ts"
const storeRedis = "packages/redis/test/RedisQueueStore.test.ts"
const sigstop = "packages/redis/test/fault/sigstop.test.ts"
const sigkill = "packages/redis/test/fault/sigkill.test.ts"
const cliRedis = "packages/cli/test/redis.test.ts"

export const mutations: ReadonlyArray<Mutation> = [
  // The rows of issue 18's table.
  {
    id: "reap-keeps-token",
    what: "reap-N.lua leaves the old lease token in place",
    edits: [{ file: lua("reap"), find: `redis.call("HDEL", KEYS[2], id)`, replace: "" }],
    tests: [conformanceRedis]
  },
  {
    id: "no-token-check",
    what: "settlements (lease.lua) and acks (complete.lua) no longer check the lease token",
    edits: [
      {
        file: lua("includes/lease.lua"),
        find: `if redis.call("HGET", tokensKey, id) ~= token then return nil, 0 end`,
        replace: `if not redis.call("HGET", tokensKey, id) and false then return nil, 0 end`
      },
      {
        file: lua("includes/complete.lua"),
        find: "    elseif current[k] == token then",
        replace: "    elseif true then"
      }
    ],
    tests: [sigstop, conformanceRedis]
  },
  {
    id: "reap-drops",
    what: "reap-N.lua drops reaped jobs instead of re-queueing them",
    edits: [{ file: lua("reap"), find: `redis.call("LPUSH", KEYS[4], id)`, replace: "" }],
    tests: [sigkill, conformanceRedis]
  },
  {
    id: "weights-off-by-one",
    what: "queue weights off by one (10:1 becomes 11:2)",
    edits: [
      {
        file: core("QueueSelection.ts"),
        find: "queues.push({ name, weight: weight ?? 1 })",
        replace: "queues.push({ name, weight: (weight ?? 1) + 1 })"
      }
    ],
    tests: ["packages/core/test/QueueSelection.test.ts"]
  },
  {
    id: "retryNow-keeps-attempt",
    what: "retryNow-N.lua keeps the attempt count of a dead job",
    edits: [{ file: lua("retryNow"), find: "m.attempt = 0", replace: "" }],
    tests: [conformanceRedis, cliRedis]
  },
  {
    id: "no-wake-on-reap-and-retryNow",
    what: "reap and retry-now no longer publish a wake-up",
    edits: [
      { file: lua("reap"), find: `redis.call("PUBLISH", ARGV[1], "reap")`, replace: "" },
      { file: lua("retryNow"), find: `redis.call("PUBLISH", ARGV[1], "retryNow")`, replace: "" }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "enqueueMany-reversed",
    what: "PromiseClient.enqueueMany returns the ids reversed",
    edits: [
      {
        file: core("PromiseClient.ts"),
        find: "results.map((result) => result.id)",
        replace: "results.map((result) => result.id).reverse()"
      }
    ],
    tests: ["packages/core/test/PromiseClient.test.ts"]
  },

  // The guarantees the conformance suite, the fault tests and the CLI tests hold since.
  {
    id: "no-wake-on-reap",
    what: "reap-N.lua no longer publishes a wake-up",
    edits: [{ file: lua("reap"), find: `redis.call("PUBLISH", ARGV[1], "reap")`, replace: "" }],
    tests: [conformanceRedis]
  },
  {
    id: "no-wake-on-retryNow",
    what: "retryNow-N.lua no longer publishes a wake-up",
    edits: [{ file: lua("retryNow"), find: `redis.call("PUBLISH", ARGV[1], "retryNow")`, replace: "" }],
    tests: [conformanceRedis]
  },
  {
    id: "no-wake-on-requeue",
    what: "requeue-N.lua no longer publishes a wake-up",
    edits: [{ file: lua("requeue"), find: `redis.call("PUBLISH", ARGV[1], "requeue")`, replace: "" }],
    tests: [conformanceRedis]
  },
  {
    id: "memory-no-wake-on-reap",
    what: "the memory store's reap wakes no waiter",
    edits: [
      {
        file: core("internal/memoryQueueStore.ts"),
        find: "if (reaped > 0) wake.fire()",
        replace: ""
      }
    ],
    tests: [conformanceMemory]
  },
  {
    id: "extend-ignores-token",
    what: "extendLeases-N.lua renews a lease whatever the token",
    edits: [
      {
        file: lua("extendLeases"),
        find: `if redis.call("HGET", KEYS[2], id) == ARGV[i + 1] then`,
        replace: `if true then`
      }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "ack-twice-in-batch",
    what: "complete.lua counts the same lease twice within one batch",
    edits: [
      {
        file: lua("includes/complete.lua"),
        find: "    if seen[id] then\n",
        replace: "    if false then\n"
      }
    ],
    tests: [conformanceRedis, storeRedis]
  },
  {
    id: "dead-set-untrimmed-by-count",
    what: "kill-N.lua no longer trims the dead set past maxJobs",
    edits: [{ file: lua("kill"), find: "if excess > 0 then forget(", replace: "if false then forget(" }],
    tests: [conformanceRedis]
  },
  {
    id: "dead-set-untrimmed-by-age",
    what: "kill-N.lua no longer trims dead jobs past maxAge",
    edits: [
      {
        file: lua("kill"),
        find: `forget(redis.call("ZRANGEBYSCORE", KEYS[7], "-inf",`,
        replace: `local _ = (redis.call("ZRANGEBYSCORE", KEYS[7], "-inf",`
      }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "memory-dead-set-untrimmed",
    what: "the memory store never trims its dead set",
    edits: [{ file: core("internal/memoryQueueStore.ts"), find: "trimDead(t, entry.queue)", replace: "" }],
    tests: [conformanceMemory]
  },
  {
    id: "completed-untrimmed-by-count",
    what: "complete.lua keeps every completed job past keepLast",
    edits: [
      {
        file: lua("includes/complete.lua"),
        find: "if keepLast >= 0 then",
        replace: "if keepLast >= 0 and false then"
      }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "completed-untrimmed-by-age",
    what: "complete.lua keeps completed jobs past keepFor",
    edits: [
      { file: lua("includes/complete.lua"), find: "if keepFor >= 0 then", replace: "if keepFor >= 0 and false then" }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "memory-retryNow-keeps-attempt",
    what: "the memory store's retryNow keeps a dead job's attempts",
    edits: [{ file: core("internal/memoryQueueStore.ts"), find: "entry.attempt = 0", replace: "" }],
    tests: [conformanceMemory]
  },
  {
    id: "claim-ignores-pause",
    what: "claim-N.lua takes jobs from a paused queue",
    edits: [
      {
        file: lua("claim"),
        find: `local paused = limit > 0 and redis.call("EXISTS"`,
        replace: `local paused = false and redis.call("EXISTS"`
      }
    ],
    tests: [conformanceRedis]
  },
  {
    id: "worker-keeps-lost-lease",
    what: "the worker no longer stops a run whose lease it lost",
    edits: [{ file: core("JobWorker.ts"), find: "yield* Effect.forkDetach(stop(slot))", replace: "" }],
    tests: ["packages/core/test/Worker.test.ts"]
  },
  {
    id: "command-timeout-10s",
    what: "IoRedis waits 10 s, not the stated 2 s, before failing a command with RedisUnavailable",
    edits: [
      {
        file: "packages/redis/src/IoRedis.ts",
        find: `"commandTimeout", options.commandTimeout, 2000)`,
        replace: `"commandTimeout", options.commandTimeout, 10000)`
      }
    ],
    tests: ["packages/redis/test/IoRedis.test.ts"]
  },
  {
    id: "cluster-checks-one-master",
    what: "the startup checks run on the first cluster master only",
    edits: [
      {
        file: "packages/redis/src/IoRedis.ts",
        find: "const infos = yield* Effect.forEach(nodes, (node) =>",
        replace: "const infos = yield* Effect.forEach(nodes.slice(0, 1), (node) =>"
      }
    ],
    tests: ["packages/redis/test/QueueStore.cluster.test.ts"]
  },
  {
    id: "requeue-counts-attempt",
    what: "requeue-N.lua keeps the attempt of an interrupted run",
    edits: [{ file: lua("requeue"), find: "m.attempt = m.attempt - 1", replace: "" }],
    tests: [conformanceRedis]
  },
  // OpenTelemetry (issue 20): the trace context carried from enqueue to run, the spans, the scrape.
  {
    id: "redis-drops-trace",
    what: "the Redis store writes the payload without the enqueuing span's trace context",
    edits: [
      {
        file: "packages/redis/src/internal/enqueue.ts",
        find: "PayloadHeader.encode(job.payload, job.trace)",
        replace: "job.payload"
      }
    ],
    tests: ["packages/redis/test/tracing.redis.test.ts", conformanceRedis]
  },
  {
    id: "memory-drops-trace",
    what: "the memory store forgets a job's trace context",
    edits: [{ file: core("internal/memoryQueueStore.ts"), find: "trace: job.trace", replace: "trace: undefined" }],
    tests: [conformanceMemory, "packages/core/test/tracing.test.ts"]
  },
  {
    id: "run-span-not-parent",
    what: "the handler's spans no longer nest under the run's span",
    edits: [
      {
        file: core("Processor.ts"),
        find: "Effect.withParentSpan(run, spans.startRun())",
        replace: "(spans.startRun(), run)"
      }
    ],
    tests: ["packages/core/test/tracing.test.ts"]
  },
  {
    id: "settle-span-under-enqueue",
    what: "a settlement's span hangs under the enqueuing span instead of the run's",
    edits: [{ file: core("internal/jobTracing.ts"), find: "this.runSpan ?? this.parent,", replace: "this.parent," }],
    tests: ["packages/core/test/tracing.test.ts"]
  },
  {
    id: "metrics-endpoint-empty",
    what: "effect-jobs worker --metrics-port answers an empty page",
    edits: [
      {
        file: "packages/cli/src/internal/telemetry.ts",
        find: "response.end(PrometheusMetrics.formatUnsafe(context))",
        replace: 'response.end("")'
      }
    ],
    tests: ["packages/cli/test/telemetry.test.ts"]
  }
]
