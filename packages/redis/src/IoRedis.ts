/**
 * The ioredis client as an Effect service: the only module that imports `ioredis`.
 *
 * `layer` opens one shared connection in the layer's scope, waits for Redis (retrying with
 * jittered backoff and a log line naming the URL while it cannot be reached), then checks
 * the server: Redis >= 6.2, `maxmemory-policy noeviction` (Redis evicting keys loses jobs),
 * and warns when persistence is off. A wrong password or a missing ACL permission is a
 * fatal `RedisStartupError` with the reason.
 *
 * Commands fail fast: while Redis is down a command fails within `commandTimeout` (2 s by
 * default) with `RedisUnavailable` instead of waiting in an offline queue, so producers see
 * the outage at once. The connection reconnects by itself with jittered backoff, logging
 * the masked URL, and long-lived users (workers) resume when it is back. Commands in flight
 * when a connection drops fail rather than being resent, but every effect-jobs script is
 * safe to run twice anyway, since Redis may have run a command whose reply was lost.
 *
 * Other connections are opened only where needed: one for pub/sub (`subscribe`, per layer,
 * on first use, closed with the layer) and dedicated ones from `open` (for blocking commands,
 * closed by their owner; `layerPersistence` pools them in a scope). `layerPersistence` provides Effect's own `Redis` service
 * (`effect/persistence/Redis`) over the same client, so `RateLimiter` and friends can share it.
 *
 * Passwords never appear in logs or errors: URLs are shown as `redis://:****@host:port`.
 *
 * Redis Cluster: with `cluster: true`, or by default when the server answers `INFO cluster`
 * with `cluster_enabled:1` (checked once the first connection is up), every connection is an
 * ioredis `Cluster` seeded with the URL's node (plus `clusterNodes`), and the startup checks
 * run on every master ("cluster mode detected (N masters)"). Commands are routed by key slot
 * (every effect-jobs script touches one slot); `SCRIPT LOAD` and `SCRIPT FLUSH` go to every
 * master, and a script that a node answers `NOSCRIPT` for is sent with `EVAL` to the same
 * slot, which runs and caches it on that node. Wake-ups use classic `PUBLISH`/`SUBSCRIBE`,
 * which Redis Cluster broadcasts to every node, so one subscriber connection (to any node)
 * hears every queue and it works on Redis 6.2; when a node leaves the cluster, listeners are
 * told that messages may have been missed. `cluster: false` skips the check.
 */
import { createHash } from "node:crypto"
import type { ConnectionOptions as TlsOptions } from "node:tls"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Redis from "effect/persistence/Redis"
import {
  Redis as Client,
  type RedisOptions as ClientOptionsAll,
  Cluster,
  type ClusterOptions as ClusterOptionsAll
} from "ioredis"
import { RedisCommandError, RedisStartupError, RedisUnavailable } from "./internal/errors.ts"
import { checkServer, infoField, type ServerInfo } from "./internal/serverChecks.ts"
import { describeConnectionError, durationMillis, parseTarget } from "./internal/target.ts"

export { RedisCommandError, RedisStartupError, RedisUnavailable } from "./internal/errors.ts"
export type { ServerInfo } from "./internal/serverChecks.ts"
export { maskUrl } from "./internal/target.ts"

// `replyMapping` is typed too narrowly for `exactOptionalPropertyTypes`; effect-jobs never sets it.
type RedisOptions = Omit<ClientOptionsAll, "replyMapping">
type ClusterOptions = Omit<ClusterOptionsAll, "redisOptions"> & {
  readonly redisOptions?: Omit<NonNullable<ClusterOptionsAll["redisOptions"]>, "replyMapping">
}
/** A standalone connection or a cluster client: both take `call`, `subscribe`, `quit` and emit `ready`. */
type AnyClient = Client | Cluster

/** How to reach Redis. */
export interface ConnectionOptions {
  /**
   * `redis://[user[:password]@]host[:port][/db]`, `rediss://…` for TLS, or `unix:///path/to.sock`;
   * pass it as `Redacted` (`Config.Redacted("REDIS_URL")`) when it holds a password, so it never
   * prints. Logs and errors show it with the password masked either way.
   */
  readonly url: string | Redacted.Redacted<string>
  /** Overrides the URL's user name. */
  readonly username?: string | undefined
  /** Overrides the URL's password. */
  readonly password?: string | Redacted.Redacted<string> | undefined
  /** Overrides the URL's database number. */
  readonly db?: number | undefined
  /** TLS settings (implied by `rediss://`). */
  readonly tls?: TlsOptions | undefined
  /** Shown in `CLIENT LIST` (default `effect-jobs`). */
  readonly connectionName?: string | undefined
  /** How long a command may wait for Redis before failing with `RedisUnavailable` (default 2 s). */
  readonly commandTimeout?: Duration.Input | undefined
  /** How long startup waits for an unreachable Redis before failing (default: keeps retrying). */
  readonly startupTimeout?: Duration.Input | undefined
  /** Accept a `maxmemory-policy` other than `noeviction` (Redis may then evict jobs). */
  readonly allowEviction?: boolean | undefined
  /**
   * Log a warning at startup when the server has persistence off (default `true`). Workers
   * keep it; a short-lived reader (a CLI `stats`) turns it off so it is not repeated by each.
   */
  readonly warnPersistence?: boolean | undefined
  /** Longest pause between reconnection attempts (default 2 s); attempts back off up to it. */
  readonly maxReconnectDelay?: Duration.Input | undefined
  /**
   * Redis Cluster: `true` connects as a cluster client, `false` as a plain client; by default
   * (`undefined`) the first connection asks `INFO cluster` and switches to a cluster client
   * when `cluster_enabled:1`.
   */
  readonly cluster?: boolean | undefined
  /** More cluster seed nodes besides the URL's, as `host:port` (credentials and TLS come from the URL). */
  readonly clusterNodes?: ReadonlyArray<string> | undefined
}

/** A Lua script sent by SHA; see `luaScript`. */
export interface LuaScript {
  readonly name: string
  readonly lua: string
  readonly sha: string
  readonly numberOfKeys: number
}

/** Describes a script; `numberOfKeys` is checked on every call. */
export const luaScript = (name: string, lua: string, numberOfKeys: number): LuaScript => ({
  name,
  lua,
  numberOfKeys,
  sha: createHash("sha1").update(lua).digest("hex")
})

/** A command argument. */
export type Arg = string | number

/** A dedicated connection (for blocking commands); `close` fails whatever is in flight on it. */
export interface Connection {
  readonly send: (
    command: string,
    ...args: ReadonlyArray<Arg>
  ) => Effect.Effect<unknown, RedisUnavailable | RedisCommandError>
  readonly close: Effect.Effect<void>
}

/** The client service. */
export class IoRedis extends Context.Service<
  IoRedis,
  {
    /** The server's URL with the password masked: safe to log. */
    readonly url: string
    readonly server: ServerInfo
    /** Sends one command on the shared connection. */
    readonly send: (
      command: string,
      ...args: ReadonlyArray<Arg>
    ) => Effect.Effect<unknown, RedisUnavailable | RedisCommandError>
    /** Runs a script by SHA (`EVALSHA`), loading it when Redis answers `NOSCRIPT`. */
    readonly runScript: (
      script: LuaScript,
      keys: ReadonlyArray<string>,
      args: ReadonlyArray<Arg>
    ) => Effect.Effect<unknown, RedisUnavailable | RedisCommandError>
    /**
     * Listens on a pub/sub channel for the life of the current scope, on this layer's one
     * subscriber connection. `onMessage(undefined)` means the subscriber reconnected and
     * messages may have been missed.
     */
    readonly subscribe: (
      channel: string,
      onMessage: (message: string | undefined) => void
    ) => Effect.Effect<void, RedisUnavailable | RedisCommandError, Scope.Scope>
    /** Opens a dedicated connection; the caller closes it. */
    readonly open: (purpose: string) => Effect.Effect<Connection, RedisUnavailable>
  }
>()("@effect-jobs/redis/IoRedis") {}

/** Reply errors that mean "not now" rather than "never": the server is loading, busy or failing over. */
const transientCodes = new Set(["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY"])
const authCodes = new Set(["WRONGPASS", "NOAUTH", "NOPERM"])

const errorCode = (message: string) => /^([A-Z][A-Z_]+)\b/.exec(message)?.[1] ?? "ERR"

/** Builds the service: one shared connection, checked, plus lazily opened extra ones. */
export const make = Effect.fnUntraced(function* (options: ConnectionOptions) {
  const target = yield* parseTarget(options)
  const url = target.url
  const commandMillis = yield* durationMillis(url, "commandTimeout", options.commandTimeout, 2000)
  const maxDelayMillis = yield* durationMillis(url, "maxReconnectDelay", options.maxReconnectDelay, 2000)
  const startupMillis =
    options.startupTimeout === undefined
      ? undefined
      : yield* durationMillis(url, "startupTimeout", options.startupTimeout, 0)
  const name = options.connectionName ?? "effect-jobs"
  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  const random = () => Effect.runSyncWith(context)(Random.next)
  const redact = (text: string) =>
    target.secret === undefined || target.secret === "" ? text : text.split(target.secret).join("****")

  interface State {
    lastError: string | undefined
    failures: number
  }

  const connectionOptions = (purpose: string, state: State, offlineQueue: boolean): RedisOptions => ({
    ...target.options,
    connectionName: purpose === "" ? name : `${name}:${purpose}`,
    lazyConnect: true,
    // RESP2: replies have the same shapes as script replies, whatever the server or proxy.
    protocol: 2,
    // Fail fast instead of queueing while disconnected (the subscriber queues its SUBSCRIBEs).
    enableOfflineQueue: offlineQueue,
    autoResendUnfulfilledCommands: false,
    // No auto-pipelining: a Pipeline object per batch costs more than the command, and the
    // store already sends one call per batch of jobs (see `sender` on why writes leave at once).
    enableAutoPipelining: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => {
      state.failures = times
      const ceiling = Math.min(maxDelayMillis, 50 * 2 ** Math.min(times - 1, 16))
      const delay = Math.round(ceiling * (0.5 + random() / 2))
      if (times <= 3 || times % 10 === 0) {
        const what = purpose === "" ? "" : ` (${purpose} connection)`
        runFork(
          Effect.logWarning(
            `cannot reach ${url}${what} (${state.lastError ?? "connection closed"}); retrying in ${(delay / 1000).toFixed(1)} s`
          )
        )
      }
      return delay
    }
  })

  // A cluster client's seed nodes: the URL's node and `clusterNodes`.
  const seeds: Array<{ host: string; port: number }> = []
  const clusterProblem = (): RedisStartupError | undefined => {
    if (target.options.host === undefined || target.options.port === undefined) {
      return new RedisStartupError({ url, reason: "config", message: `${url}: Redis Cluster needs a redis:// URL` })
    }
    if ((target.options.db ?? 0) !== 0) {
      return new RedisStartupError({
        url,
        reason: "config",
        message: `${url}: Redis Cluster has only database 0, got ${target.options.db}`
      })
    }
    seeds.length = 0
    seeds.push({ host: target.options.host, port: target.options.port })
    for (const node of options.clusterNodes ?? []) {
      const match = /^(?:rediss?:\/\/)?(?:[^@/]*@)?\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(node)
      if (match === null) {
        return new RedisStartupError({
          url,
          reason: "config",
          message: `${url}: cluster node ${JSON.stringify(redact(node))} is not host:port`
        })
      }
      seeds.push({ host: match[1]!, port: Number(match[2]) })
    }
    return undefined
  }

  const clusterOptions = (purpose: string, state: State, offlineQueue: boolean): ClusterOptions => {
    const {
      retryStrategy,
      enableOfflineQueue: _queue,
      host: _host,
      port: _port,
      path: _path,
      db: _db,
      lazyConnect: _lazy,
      ...redisOptions
    } = connectionOptions(purpose, state, offlineQueue)
    return {
      lazyConnect: true,
      enableOfflineQueue: offlineQueue,
      enableAutoPipelining: true,
      clusterRetryStrategy: retryStrategy ?? null,
      // Node connections reconnect too (by default a restarted node waits for a MOVED reply).
      clusterNodeRetryStrategy: (times: number) => Math.min(maxDelayMillis, 50 * 2 ** Math.min(times - 1, 16)),
      redisOptions
    }
  }

  const newClient = (cluster: boolean, purpose: string, state: State, offlineQueue: boolean): AnyClient => {
    const client: AnyClient = cluster
      ? // Cast: ioredis types `redisOptions.replyMapping` too narrowly for `exactOptionalPropertyTypes`.
        new Cluster(seeds, clusterOptions(purpose, state, offlineQueue) as ConstructorParameters<typeof Cluster>[1])
      : new Client({
          ...connectionOptions(purpose, state, offlineQueue),
          // ioredis's own re-subscribe after a reconnect leaves its promise unhandled: a cut
          // during it rejected with MaxRetriesPerRequestError and crashed the worker process
          // (seen in fault/proxy-cuts). The subscriber re-subscribes on "ready" itself instead.
          autoResubscribe: purpose !== "subscriber"
        })
    watch(client, purpose, state)
    return client
  }

  const watch = (client: AnyClient, purpose: string, state: State) => {
    client.on("error", (error: Error) => {
      state.lastError = redact(describeConnectionError(target, error))
    })
    client.on("node error", (error: Error) => {
      state.lastError = redact(describeConnectionError(target, error))
    })
    client.on("ready", () => {
      if (state.failures > 0) {
        const what = purpose === "" ? "" : ` (${purpose} connection)`
        runFork(Effect.logInfo(`reconnected to ${url}${what}`))
      }
      state.failures = 0
      state.lastError = undefined
    })
  }

  const whenReady = (client: AnyClient): Effect.Effect<void> =>
    client.status === "ready"
      ? Effect.void
      : Effect.callback<void>((resume) => {
          const onReady = () => resume(Effect.void)
          client.once("ready", onReady)
          return Effect.sync(() => void client.off("ready", onReady))
        })

  const classify = (command: string, error: unknown): RedisUnavailable | RedisCommandError => {
    const message = redact(error instanceof Error ? error.message : String(error))
    if (error instanceof Error && error.name === "ReplyError") {
      const code = errorCode(message)
      if (!transientCodes.has(code)) return new RedisCommandError({ command, code, message })
      return new RedisUnavailable({ url, message: `${command} on ${url}: ${message}` })
    }
    return new RedisUnavailable({ url, message: `${command} on ${url} failed: ${message}` })
  }

  /** `waitReady: false` for a cluster's node connections, which connect on their first command. */
  const sender = (client: AnyClient, state: State, waitReady = true) => {
    const timedOut = (command: string) =>
      new RedisUnavailable({
        url,
        message:
          client.status === "ready"
            ? `${command} got no reply from ${url} within ${commandMillis} ms`
            : `cannot reach ${url} (${state.lastError ?? client.status}); ${command} gave up after ${commandMillis} ms`
      })
    // Each command is written at once. Corking the socket until the next tick (so a tick's
    // commands share one write) held a worker lane's claim back until the other lane's whole
    // batch of jobs had run, which undid the overlap of the two lanes: the bench's drain at
    // concurrency 100 went from 27k to 46k jobs/s without it, and enqueueing got faster too.
    const issue = (command: string, args: ReadonlyArray<Arg>): Promise<unknown> => {
      // ioredis tracks subscriptions only through its own methods, not through `call`.
      if (command === "SUBSCRIBE") return client.subscribe(...args.map(String))
      if (command === "UNSUBSCRIBE") return client.unsubscribe(...args.map(String))
      return client.call(command, ...(args as Array<Arg>))
    }
    // The hot path: one plain timer per command instead of a racing fiber (`Effect.timeout`).
    const call = (command: string, args: ReadonlyArray<Arg>, millis: number) =>
      Effect.callback<unknown, RedisUnavailable | RedisCommandError>((resume) => {
        let settled = false
        const timer = setTimeout(() => {
          settled = true
          resume(Effect.fail(timedOut(command)))
        }, millis)
        issue(command, args).then(
          (value) => {
            if (settled) return
            settled = true
            clearTimeout(timer)
            resume(Effect.succeed(value))
          },
          (error: unknown) => {
            if (settled) return
            settled = true
            clearTimeout(timer)
            resume(Effect.fail(classify(command, error)))
          }
        )
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
        })
      })
    // Not connected: wait for the connection within the same time limit.
    const afterReady = (command: string, args: ReadonlyArray<Arg>) =>
      Effect.suspend(() => {
        const start = Date.now()
        return whenReady(client).pipe(
          Effect.timeoutOrElse({
            duration: commandMillis,
            orElse: () => Effect.fail(new RedisUnavailable({ url, message: timedOut(command).message, unsent: true }))
          }),
          Effect.andThen(Effect.suspend(() => call(command, args, Math.max(1, commandMillis - (Date.now() - start)))))
        )
      })
    return (command: string, ...args: ReadonlyArray<Arg>) =>
      Effect.suspend(() =>
        client.status === "ready" || !waitReady ? call(command, args, commandMillis) : afterReady(command, args)
      )
  }

  const close = (client: AnyClient) =>
    Effect.callback<void>((resume) => {
      client.quit().then(
        () => resume(Effect.void),
        () => resume(Effect.void)
      )
    }).pipe(
      Effect.timeoutOrElse({ duration: 1000, orElse: () => Effect.void }),
      Effect.ensuring(Effect.sync(() => client.disconnect()))
    )

  // The shared connection, waited for: auth failures are fatal, unreachable keeps retrying.
  const mainState: State = { lastError: undefined, failures: 0 }
  const connect = (client: AnyClient, state: State) => {
    const connected = Effect.callback<void, RedisStartupError>((resume) => {
      const onReady = () => {
        cleanup()
        resume(Effect.void)
      }
      const onError = (error: Error) => {
        const message = redact(error.message)
        if (message.includes("cluster support disabled")) {
          cleanup()
          client.disconnect()
          return resume(
            Effect.fail(
              new RedisStartupError({
                url,
                reason: "config",
                message: `${url} is not a Redis Cluster node (${message}); leave out cluster: true`
              })
            )
          )
        }
        if (!authCodes.has(errorCode(message))) return
        cleanup()
        client.disconnect()
        resume(
          Effect.fail(
            new RedisStartupError({
              url,
              reason: errorCode(message) === "NOPERM" ? "permission" : "auth",
              message:
                errorCode(message) === "NOPERM"
                  ? `${url} refused a command this user needs while connecting: ${message}`
                  : `${url} refused the credentials: ${message}`
            })
          )
        )
      }
      const cleanup = () => {
        client.off("ready", onReady)
        client.off("error", onError)
        client.off("node error", onError)
      }
      client.on("ready", onReady)
      client.on("error", onError)
      client.on("node error", onError)
      client.connect().catch(() => {})
      return Effect.sync(cleanup)
    })
    return startupMillis === undefined
      ? connected
      : connected.pipe(
          Effect.timeoutOrElse({
            duration: startupMillis,
            orElse: () =>
              Effect.fail(
                new RedisUnavailable({
                  url,
                  message: `cannot reach ${url} (${state.lastError ?? client.status}) within ${startupMillis} ms`
                })
              )
          })
        )
  }
  const acquire = (cluster: boolean) =>
    Effect.acquireRelease(
      Effect.sync(() => newClient(cluster, "", mainState, false)),
      close
    )

  let clusterMode = options.cluster === true
  if (clusterMode) {
    const problem = clusterProblem()
    if (problem !== undefined) return yield* problem
  }
  let first = yield* acquire(clusterMode)
  yield* connect(first, mainState)
  if (options.cluster === undefined) {
    // Auto-detection: a node of a Redis Cluster says `cluster_enabled:1`.
    const info = yield* sender(first, mainState)("INFO", "cluster").pipe(
      Effect.map(String),
      Effect.catchTag("RedisCommandError", () => Effect.succeed(""))
    )
    if (infoField(info, "cluster_enabled") === "1") {
      const problem = clusterProblem()
      if (problem !== undefined) return yield* problem
      yield* close(first)
      clusterMode = true
      first = yield* acquire(true)
      yield* connect(first, mainState)
    }
  }
  const client = first
  const isCluster = clusterMode

  /** The cluster's masters now (empty for a plain connection). */
  const masters = (): ReadonlyArray<Client> => (client instanceof Cluster ? client.nodes("master") : [])
  const onMasters = (command: string, args: ReadonlyArray<Arg>) =>
    Effect.suspend(() =>
      Effect.forEach(masters(), (node) => sender(node, mainState, false)(command, ...args), {
        concurrency: "unbounded"
      })
    )

  const baseSend = sender(client, mainState)
  // In a cluster, scripts are loaded (or flushed) on every master: EVALSHA goes to the key's node.
  const send = (command: string, ...args: ReadonlyArray<Arg>) => {
    if (!isCluster || command.toUpperCase() !== "SCRIPT") return baseSend(command, ...args)
    const sub = String(args[0] ?? "").toUpperCase()
    return sub === "LOAD" || sub === "FLUSH"
      ? Effect.map(onMasters(command, args), (replies) => replies[0])
      : baseSend(command, ...args)
  }

  let server: ServerInfo
  const nodes = masters()
  if (isCluster && nodes.length > 0) {
    const infos = yield* Effect.forEach(nodes, (node) =>
      checkServer(
        `${url} (node ${node.options.host}:${node.options.port})`,
        sender(node, mainState, false),
        options.allowEviction === true,
        options.warnPersistence !== false
      )
    )
    server = { ...infos[0]!, cluster: { masters: nodes.length } }
    yield* Effect.logInfo(`cluster mode detected (${nodes.length} masters) at ${url}`)
  } else {
    server = yield* checkServer(url, baseSend, options.allowEviction === true, options.warnPersistence !== false)
  }

  const runScript = (script: LuaScript, keys: ReadonlyArray<string>, args: ReadonlyArray<Arg>) => {
    if (keys.length !== script.numberOfKeys) {
      return Effect.die(new Error(`${script.name}: expected ${script.numberOfKeys} keys, got ${keys.length}`))
    }
    const evalSha = baseSend("EVALSHA", script.sha, keys.length, ...keys, ...args)
    return evalSha.pipe(
      Effect.catchTag("RedisCommandError", (error) =>
        error.code !== "NOSCRIPT"
          ? Effect.fail(error)
          : isCluster
            ? // EVAL goes to the node that answered (the keys' slot), which runs and caches the script.
              send("EVAL", script.lua, keys.length, ...keys, ...args)
            : Effect.andThen(send("SCRIPT", "LOAD", script.lua), evalSha)
      )
    )
  }

  // The subscriber connection: opened on the first subscription, closed with the layer.
  const listeners = new Map<string, Set<(message: string | undefined) => void>>()
  const subscribed = new Map<string, Effect.Effect<void, RedisUnavailable | RedisCommandError>>()
  let subscriber: { readonly client: AnyClient; readonly send: ReturnType<typeof sender> } | undefined
  const subscriberClient = () => {
    if (subscriber !== undefined) return subscriber
    const state: State = { lastError: undefined, failures: 0 }
    const sub = newClient(isCluster, "subscriber", state, true)
    let readyOnce = false
    const reconnected = () => {
      for (const set of listeners.values()) for (const listener of set) listener(undefined)
    }
    sub.on("ready", () => {
      // After a reconnect: what was published meanwhile is lost, so say so, and say it again
      // once our SUBSCRIBE (ioredis's own is off on a single server, on in a cluster) confirms
      // the channels are heard again: a look taken before that may have missed a message.
      if (readyOnce) {
        reconnected()
        const channels = [...listeners.keys()]
        if (channels.length > 0) sub.subscribe(...channels).then(reconnected, () => {})
      }
      readyOnce = true
    })
    // A node left the cluster: if it held the subscription, ioredis re-subscribes elsewhere.
    sub.on("-node", reconnected)
    sub.on("message", (channel: string, message: string) => {
      const set = listeners.get(channel)
      if (set !== undefined) for (const listener of set) listener(message)
    })
    sub.connect().catch(() => {})
    subscriber = { client: sub, send: sender(sub, state) }
    return subscriber
  }
  yield* Effect.addFinalizer(() =>
    Effect.suspend(() => (subscriber === undefined ? Effect.void : Effect.sync(() => subscriber?.client.disconnect())))
  )

  const subscribe = (channel: string, onMessage: (message: string | undefined) => void) =>
    Effect.gen(function* () {
      const sub = subscriberClient()
      let set = listeners.get(channel)
      if (set === undefined) {
        set = new Set()
        listeners.set(channel, set)
      }
      set.add(onMessage)
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          const current = listeners.get(channel)
          current?.delete(onMessage)
          if (current === undefined || current.size > 0) return Effect.void
          listeners.delete(channel)
          subscribed.delete(channel)
          return sub.send("UNSUBSCRIBE", channel).pipe(Effect.ignore)
        })
      )
      let confirmation = subscribed.get(channel)
      if (confirmation === undefined) {
        confirmation = yield* Effect.cached(Effect.asVoid(sub.send("SUBSCRIBE", channel)))
        subscribed.set(channel, confirmation)
      }
      yield* confirmation.pipe(Effect.tapError(() => Effect.sync(() => subscribed.delete(channel))))
    })

  const open = (purpose: string) =>
    Effect.gen(function* () {
      const state: State = { lastError: undefined, failures: 0 }
      const connection = newClient(isCluster, purpose, state, false)
      connection.connect().catch(() => {})
      const send = sender(connection, state)
      yield* send("PING").pipe(
        Effect.tapError(() => close(connection)),
        Effect.mapError((error) =>
          error._tag === "RedisUnavailable" ? error : new RedisUnavailable({ url, message: error.message })
        )
      )
      return { send, close: close(connection) } satisfies Connection
    })

  return IoRedis.of({ url, server, send, runScript, subscribe, open })
})

/** The client as a layer: connected and checked when built, closed with the layer. */
export const layer = (options: ConnectionOptions): Layer.Layer<IoRedis, RedisStartupError | RedisUnavailable> =>
  Layer.effect(IoRedis, make(options))

const toRedisError = (cause: RedisUnavailable | RedisCommandError) => new Redis.RedisError({ cause })

/** Effect's own `Redis` service (`effect/persistence/Redis`) over this client, for `RateLimiter` and friends. */
export const layerPersistence: Layer.Layer<Redis.Redis, never, IoRedis> = Layer.effect(
  Redis.Redis,
  Effect.gen(function* () {
    const io = yield* IoRedis
    return yield* Redis.make({
      send: <A>(command: string, ...args: ReadonlyArray<string>) =>
        Effect.mapError(io.send(command, ...args), toRedisError) as Effect.Effect<A, Redis.RedisError>,
      subscribe: (channel, onMessage) =>
        io
          .subscribe(channel, (message) => {
            if (message !== undefined) onMessage({ channel, message })
          })
          .pipe(Effect.mapError(toRedisError), Effect.as(Effect.never)),
      connect: Effect.map(Effect.mapError(io.open("reserved"), toRedisError), (connection) => ({
        send: <A>(command: string, ...args: ReadonlyArray<string>) =>
          Effect.mapError(connection.send(command, ...args), toRedisError) as Effect.Effect<A, Redis.RedisError>,
        close: connection.close
      }))
    })
  })
)
