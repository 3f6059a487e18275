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

Cli.run.pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ teardown: (exit, onExit) => onExit(exitCode(exit)) })
)
