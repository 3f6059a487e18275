/**
 * The `effect-jobs` command tree: `worker`, `enqueue`, `stats` and the admin commands,
 * with the global settings (`--redis`, `--prefix`, `--log-format`, …) shared by all.
 */
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Stdio from "effect/Stdio"
import * as Admin from "./commands/Admin.ts"
import * as Dead from "./commands/Dead.ts"
import * as Enqueue from "./commands/Enqueue.ts"
import * as Queues from "./commands/Queues.ts"
import * as Retries from "./commands/Retries.ts"
import * as Scheduled from "./commands/Scheduled.ts"
import * as Stats from "./commands/Stats.ts"
import * as Worker from "./commands/Worker.ts"
import { helpWithoutUnknown } from "./internal/unknownCommand.ts"
import * as Settings from "./Settings.ts"

/** The root command. */
export const command = Command.make("effect-jobs").pipe(
  Command.withDescription("Background jobs for Effect: run workers, enqueue jobs, inspect and manage queues"),
  Command.withSubcommands([
    Worker.command,
    Enqueue.command,
    Stats.command,
    Queues.command,
    Dead.command,
    Retries.command,
    Scheduled.command,
    Admin.command
  ]),
  Command.withGlobalFlags(Settings.all)
)

/** The version printed by `--version`. */
export const version = "0.1.0"

/**
 * Runs the command line from `Stdio`'s arguments. An unknown command is reported as one
 * (exit 2) even with `--help`, which would otherwise show the parent's help and exit 0.
 */
export const run = Stdio.Stdio.use(({ args }) =>
  Effect.flatMap(args, (args) =>
    Command.runWith(command, { version })(helpWithoutUnknown(command, args, Settings.valueFlags))
  )
)
