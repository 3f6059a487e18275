/**
 * effect-jobs core: typed background jobs for Effect.
 */
export * as CurrentJob from "./CurrentJob.ts"
export * as Job from "./Job.ts"
export * as JobClient from "./JobClient.ts"
export * as JobErrors from "./JobErrors.ts"
export * as JobEvents from "./JobEvents.ts"
export * as JobMetrics from "./JobMetrics.ts"
export * as JobRecord from "./JobRecord.ts"
export * as JobRegistry from "./JobRegistry.ts"
export * as MemoryBackend from "./MemoryBackend.ts"
export * as Middleware from "./Middleware.ts"
export * as Processor from "./Processor.ts"
export * as ProcessRegistry from "./ProcessRegistry.ts"
export * as QueueSelection from "./QueueSelection.ts"
export * as QueueStore from "./QueueStore.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as Worker from "./Worker.ts"
