/**
 * `@effect-jobs/cli`: the `effect-jobs` command line. Apps import only the jobs-module
 * contract from here, to type the module `--jobs` points at:
 *
 * ```ts
 * import type { JobsModule } from "@effect-jobs/cli"
 * export const handlers: JobsModule.Handlers = [SendWelcome.handle(...)]
 * ```
 */
export type * as JobsModule from "./JobsModule.ts"
