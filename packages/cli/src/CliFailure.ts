/**
 * The one error the commands fail with: a message for the user and the exit code.
 *
 * `Command.run` prints the message (without a stack) and `bin.ts` exits with the code:
 * 2 for bad use (a flag value, a missing `--redis`, a jobs module that is not there),
 * 1 for everything that went wrong while doing the work (Redis unreachable, a store error).
 */

import * as CliError from "effect/cli/CliError"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"

/** A failure the user can act on. */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String,
  exitCode: Schema.Number
}) {
  override readonly [Runtime.errorExitCode] = this.exitCode
  override get [CliError.userMessage](): string {
    return this.message
  }
}

/** Bad use: exit code 2. */
export const usage = (message: string): CliFailure => new CliFailure({ message, exitCode: 2 })

/** The work failed: exit code 1. */
export const failed = (message: string): CliFailure => new CliFailure({ message, exitCode: 1 })
