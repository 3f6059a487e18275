/**
 * TLS against a real `redis-server`: a CA and a server certificate (for 127.0.0.1 and
 * localhost) made by `openssl` here, the server listening on a TLS port besides its plain one.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { QueueStore } from "@effect-jobs/core"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import * as RedisBackend from "../src/RedisBackend.ts"
import { freePort, type RedisServer, startRedisServer } from "./helpers/redisServer.ts"

let dir = ""
let server: RedisServer | undefined
let tlsPort = 0

const openssl = (...args: Array<string>) => {
  const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" })
  if (run.error !== undefined)
    throw new Error(`openssl is missing (Debian/Ubuntu: apt-get install openssl): ${run.error}`)
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${run.stderr}`)
}

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-tls-"))
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=effect-jobs test CA"
  )
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost"
  )
  Fs.writeFileSync(Path.join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "san.cnf"
  )
  tlsPort = await freePort()
  server = await startRedisServer({
    args: [
      "--tls-port",
      String(tlsPort),
      "--tls-cert-file",
      Path.join(dir, "server.pem"),
      "--tls-key-file",
      Path.join(dir, "server.key"),
      "--tls-ca-cert-file",
      Path.join(dir, "ca.pem"),
      "--tls-auth-clients",
      "no"
    ]
  })
}, 60_000)

afterAll(async () => {
  await server?.stop()
  if (dir !== "") Fs.rmSync(dir, { recursive: true, force: true })
})

/** Reads the store's stats through a Redis backend built with `options`; the exit of it all. */
const statsOver = (options: RedisBackend.Options) =>
  Effect.flatMap(QueueStore.QueueStore, (store) => store.stats).pipe(
    Effect.provide(RedisBackend.layer(options).pipe(Layer.orDie)),
    Effect.exit
  )

const failureText = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit) ? String(exit.cause) : "succeeded"

describe("TLS (rediss://)", () => {
  it.live("connects to an IP host with the CA given as tls.ca, without Node's DEP0123 warning", () =>
    Effect.gen(function* () {
      const warnings: Array<string> = []
      const onWarning = (warning: Error & { code?: string }) => warnings.push(`${warning.code}: ${warning.message}`)
      process.on("warning", onWarning)
      const exit = yield* statsOver({
        url: `rediss://127.0.0.1:${tlsPort}`,
        tls: { ca: Fs.readFileSync(Path.join(dir, "ca.pem")) },
        startupTimeout: "10 seconds"
      }).pipe(Effect.ensuring(Effect.sync(() => process.off("warning", onWarning))))
      assert.isTrue(Exit.isSuccess(exit), failureText(exit))
      // Warnings are emitted on the next tick.
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      assert.deepStrictEqual(
        warnings.filter((w) => w.startsWith("DEP0123")),
        []
      )
    })
  )

  it.live("connects by host name, checked against the certificate", () =>
    Effect.gen(function* () {
      const exit = yield* statsOver({
        url: `rediss://localhost:${tlsPort}`,
        tls: { ca: Fs.readFileSync(Path.join(dir, "ca.pem")) },
        startupTimeout: "10 seconds"
      })
      assert.isTrue(Exit.isSuccess(exit), failureText(exit))
    })
  )

  it.live("names NODE_EXTRA_CA_CERTS and tls.ca when the server's CA is not trusted", () =>
    Effect.gen(function* () {
      const exit = yield* statsOver({ url: `rediss://localhost:${tlsPort}`, startupTimeout: "1 second" })
      assert.include(failureText(exit), "self-signed certificate in certificate chain")
      assert.include(failureText(exit), "NODE_EXTRA_CA_CERTS=/path/to/ca.pem or the tls: { ca } option")
    })
  )

  it.live("tells a redis:// URL pointed at the TLS port to use rediss://", () =>
    Effect.gen(function* () {
      const exit = yield* statsOver({ url: `redis://127.0.0.1:${tlsPort}`, startupTimeout: "1 second" })
      assert.include(failureText(exit), "ECONNRESET; if this port serves TLS, use rediss:// instead of redis://")
    })
  )
})
