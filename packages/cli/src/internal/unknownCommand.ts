/**
 * `effect-jobs nosuch --help`: effect/cli answers a help flag with the help of the deepest
 * command it recognised and exit 0, so a mistyped command went unnoticed. This finds the
 * first word that is not a subcommand where one is expected, so the caller can drop the help
 * flags and let the parser report it (unknown, "did you mean", exit 2).
 */
import type * as Command from "effect/cli/Command"

const isHelp = (arg: string) => arg === "--help" || arg === "-h"

/**
 * The unknown subcommand in `args`, if any. `valueFlags` are the flags that take a value
 * (`--redis URL`), whose value is not a command.
 */
export const unknownSubcommand = (
  root: Command.Command.Any,
  args: ReadonlyArray<string>,
  valueFlags: ReadonlySet<string>
): string | undefined => {
  let current = root
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") return undefined
    if (arg.startsWith("-")) {
      if (valueFlags.has(arg)) i++
      continue
    }
    const children = current.subcommands.flatMap((group) => group.commands)
    if (children.length === 0) return undefined
    const next = children.find((child) => child.name === arg || child.alias === arg)
    if (next === undefined) return arg
    current = next
  }
  return undefined
}

/** `args` with the help flags removed when they would hide an unknown subcommand. */
export const helpWithoutUnknown = (
  root: Command.Command.Any,
  args: ReadonlyArray<string>,
  valueFlags: ReadonlySet<string>
): ReadonlyArray<string> =>
  args.some(isHelp) && unknownSubcommand(root, args, valueFlags) !== undefined
    ? args.filter((arg) => !isHelp(arg))
    : args
