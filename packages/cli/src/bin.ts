#!/usr/bin/env node
/**
 * The `effect-jobs` executable: runs the command tree on Node and turns the outcome into an
 * exit code. 0: done, or a worker stopped cleanly by SIGINT / SIGTERM; 1: the work failed;
 * 2: bad use (unknown flag, invalid value, missing `--redis`…); 130: interrupted.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as CliError from "effect/cli/CliError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import * as Cli from "./Cli.ts"
import { interruptIsSuccess } from "./internal/shutdown.ts"

const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (Cause.hasInterruptsOnly(exit.cause)) return interruptIsSuccess() ? 0 : 130
  const error = Cause.squash(exit.cause)
  if (CliError.isCliError(error) && error._tag === "ShowHelp") return error.errors.length > 0 ? 2 : 0
  return Runtime.getErrorExitCode(error)
}

/**
 * Exits once stdout and stderr are flushed. The runtime leaves a successful run to the event
 * loop, which a handle opened by the user's jobs module (a pool, a client, a timer) would
 * keep alive after the command is done.
 */
const exitWhenFlushed = (code: number): void => {
  process.exitCode = code
  let pending = 2
  const flushed = () => {
    if (--pending === 0) process.exit(code)
  }
  process.stdout.write("", flushed)
  process.stderr.write("", flushed)
}

Cli.run.pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    teardown: (exit, onExit) => {
      const code = exitCode(exit)
      onExit(code)
      exitWhenFlushed(code)
    }
  })
)
