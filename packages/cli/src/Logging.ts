/**
 * Where and how the CLI logs: to stderr (stdout carries command output such as ids and
 * JSON), human-readable on a terminal and JSON lines otherwise, as `--log-format` says.
 * The level comes from `--log-level` (default info).
 */

import type * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import { LogFormat } from "./Settings.ts"

/** The format `--log-format` asks for: human on a terminal, JSON lines otherwise. */
export const format: Effect.Effect<"human" | "json", never, GlobalFlag.Setting.Identifier<"log-format">> = Effect.map(
  LogFormat,
  Option.getOrElse(() => (process.stderr.isTTY === true ? ("human" as const) : ("json" as const)))
)

/** The logger for a format, writing to stderr. */
export const layer = (format: "human" | "json"): Layer.Layer<never> =>
  Layer.merge(
    Logger.layer([format === "human" ? Logger.consolePretty() : Logger.withConsoleError(Logger.formatJson)]),
    Layer.succeed(Logger.LogToStderr, true)
  )

/** Runs an effect with the logger chosen by `--log-format`. */
export const withLogging = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | GlobalFlag.Setting.Identifier<"log-format">> =>
  Effect.flatMap(format, (format) => Effect.provide(effect, layer(format)))
