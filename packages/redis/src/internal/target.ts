/** Where to connect: the URL parsed into ioredis options, and the URL with its password masked. */
import { isIP } from "node:net"
import type { ConnectionOptions as TlsOptions } from "node:tls"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { RedisStartupError } from "./errors.ts"

/** Where and as whom to connect, in the shape of ioredis's options (only `IoRedis` imports ioredis). */
export interface Endpoint {
  readonly host?: string
  readonly port?: number
  readonly path?: string
  readonly username?: string
  readonly password?: string
  readonly db?: number
  readonly tls?: TlsOptions
}

/** The parts of `ConnectionOptions` that say where Redis is. */
export interface TargetOptions {
  readonly url: string | Redacted.Redacted<string>
  readonly username?: string | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  readonly db?: number | undefined
  readonly tls?: TlsOptions | undefined
}

/** A parsed target. */
export interface Target {
  readonly options: Endpoint
  readonly url: string
  readonly secret: string | undefined
}

const untrustedCertificate = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
])

/**
 * A connection error, with a hint for the usual TLS mistakes: a plain `redis://` connection
 * reset by a TLS port (it drops a client that does not start with a handshake), and a
 * server certificate signed by a CA that Node does not trust.
 */
export const describeConnectionError = (target: Target, error: Error & { readonly code?: string }): string => {
  const plain = target.options.tls === undefined && target.options.path === undefined
  if (plain && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
    return `${error.message}; if this port serves TLS, use rediss:// instead of redis://`
  }
  if (!plain && error.code !== undefined && untrustedCertificate.has(error.code)) {
    return `${error.message}; trust the server's CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem or the tls: { ca } option`
  }
  return error.message
}

export const configError = (url: string, message: string) => new RedisStartupError({ url, reason: "config", message })

/** The URL with its password replaced by `****`. Unparseable input hides everything between `//` and `@`. */
export const maskUrl = (url: string): string => {
  if (!URL.canParse(url)) return url.replace(/\/\/[^@/]*@/, "//****@")
  const parsed = new URL(url)
  if (parsed.password !== "") parsed.password = "****"
  return parsed.toString().replace(/\/$/, "")
}

const reveal = (value: string | Redacted.Redacted<string>): string =>
  Redacted.isRedacted(value) ? Redacted.value(value) : value

export const parseTarget = (options: TargetOptions): Effect.Effect<Target, RedisStartupError> =>
  Effect.suspend(() => {
    // Read out of `Redacted` here, where the connection options are made, and nowhere else.
    const url = reveal(options.url)
    const masked = maskUrl(url)
    if (!URL.canParse(url)) {
      return Effect.fail(configError(masked, `${masked} is not a URL; expected redis://host:6379 or rediss://…`))
    }
    const parsed = new URL(url)
    const password =
      options.password !== undefined
        ? reveal(options.password)
        : parsed.password === ""
          ? undefined
          : decodeURIComponent(parsed.password)
    const username = options.username ?? (parsed.username === "" ? undefined : decodeURIComponent(parsed.username))
    const base: Endpoint = {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password })
    }
    let target: Endpoint
    if (parsed.protocol === "unix:") {
      target = { ...base, path: decodeURIComponent(parsed.pathname) }
    } else if (parsed.protocol === "redis:" || parsed.protocol === "rediss:") {
      const dbText = parsed.pathname.replace(/^\//, "") || parsed.searchParams.get("db") || "0"
      const db = options.db ?? Number(dbText)
      if (!Number.isInteger(db) || db < 0) {
        return Effect.fail(configError(masked, `${masked}: database ${JSON.stringify(dbText)} is not a whole number`))
      }
      const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1"
      target = {
        ...base,
        host,
        port: parsed.port === "" ? 6379 : Number(parsed.port),
        db,
        ...(parsed.protocol === "rediss:" || options.tls !== undefined
          ? // SNI takes a host name only: Node warns (DEP0123) when given an IP address.
            { tls: { ...(isIP(host) === 0 ? { servername: host } : {}), ...options.tls } }
          : {})
      }
    } else {
      return Effect.fail(
        configError(masked, `${masked}: unsupported scheme ${parsed.protocol} (use redis://, rediss:// or unix://)`)
      )
    }
    return Effect.succeed({ options: target, url: masked, secret: password })
  })

/** A positive duration option in milliseconds, or a config error naming it. */
export const durationMillis = (url: string, name: string, input: Duration.Input | undefined, fallback: number) => {
  if (input === undefined) return Effect.succeed(fallback)
  const duration = Duration.fromInput(input)
  if (duration._tag === "None" || Duration.toMillis(duration.value) <= 0) {
    return Effect.fail(
      configError(url, `${name}: expected a positive duration such as "2 seconds", got ${String(input)}`)
    )
  }
  return Effect.succeed(Duration.toMillis(duration.value))
}
