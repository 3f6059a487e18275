/**
 * Two copies of `effect` in one tree (an app's and the one this package resolves) cannot
 * read each other's schemas: a schema node of the other copy is not one of ours, and the
 * encoder then meets values it does not know ("a symbol is not JSON"). `Job.make` checks its
 * schemas with this, so the problem is named at definition time with its fix.
 */
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"

// Every AST node of this copy of `effect` inherits from one base class.
const astBase: object = Object.getPrototypeOf(SchemaAST.Null.prototype)

const isForeign = (schema: unknown): boolean =>
  Schema.isSchema(schema) && !Object.prototype.isPrototypeOf.call(astBase, schema.ast)

/**
 * Where a job's options hold a schema made by another copy of `effect` (`"payload field
 * \"to\""`, `"error schema"`…), or `undefined` when every schema is ours.
 */
export const foreignSchemaIn = (options: {
  readonly payload: unknown
  readonly success?: unknown
  readonly error?: unknown
}): string | undefined => {
  if (Schema.isSchema(options.payload)) {
    if (isForeign(options.payload)) return "payload schema"
  } else if (typeof options.payload === "object" && options.payload !== null) {
    for (const [key, field] of Object.entries(options.payload)) {
      if (isForeign(field)) return `payload field ${JSON.stringify(key)}`
    }
  }
  if (isForeign(options.success)) return "success schema"
  if (isForeign(options.error)) return "error schema"
  return undefined
}

/** The message for a schema from another copy of `effect`. */
export const secondEffectCopy = (jobName: string, where: string): string =>
  `Job.make(${jobName}): its ${where} comes from a second copy of the "effect" package, not the one ` +
  `@effect-jobs/core uses, and two copies cannot read each other's schemas. Keep a single copy: ` +
  `"npm ls effect" lists them; "npm dedupe" merges them when one version satisfies every range ` +
  `(otherwise align the "effect" versions your package.json files ask for).`
