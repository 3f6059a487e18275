/**
 * Job definitions: a name, a payload schema and the options that govern every run.
 *
 * A definition carries no handler, so producers import it without pulling in what the
 * handler needs. The worker side registers the handler with `.toLayer(...)` (or collects
 * `.handle(...)` values with `JobRegistry.add`); the handler's requirements become the
 * layer's requirements, so a worker that lacks a service does not typecheck.
 *
 * ```ts
 * export const SendWelcome = Job.make("SendWelcome", {
 *   payload: { userId: Schema.Number },
 *   queue: "mailers",
 *   retry: 5,
 *   timeout: "30 seconds"
 * })
 * ```
 */
import type * as DateTime from "effect/DateTime"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Pipeable from "effect/Pipeable"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { CurrentJob, JobInfo } from "./CurrentJob.ts"
import { foreignSchemaIn, secondEffectCopy } from "./internal/effectCopies.ts"
import { makePayloadCodec, type PayloadCodec } from "./internal/payload.ts"
import { queueNameProblem } from "./internal/queueName.ts"
import { JobClient } from "./JobClient.ts"
import * as JobRegistry from "./JobRegistry.ts"
import type { EnqueueError, JobControl } from "./JobError.ts"
import type { EnqueueResult, QueueStoreError } from "./QueueStore.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

export { Discard, JobTimeout, RetryIn, Unrecoverable } from "./JobError.ts"

/** A schema a job can carry (it must not need services to encode or decode). */
export type AnySchema = Schema.Top

/** `payload` may be a struct's fields or any schema. */
export type PayloadInput = Schema.Struct.Fields | AnySchema

/** The schema a `PayloadInput` stands for. */
export type PayloadSchema<P extends PayloadInput> = P extends AnySchema
  ? P
  : P extends Schema.Struct.Fields
    ? Schema.Struct<P>
    : never

/** Options of a job definition: this bag is where later features (unique, locks…) plug in. */
export interface JobOptions<P extends PayloadInput, S extends AnySchema, Err extends AnySchema> {
  readonly payload: P
  /** What the handler returns (kept for batches and callers that await a result). */
  readonly success?: S | undefined
  /** The handler's typed failures. */
  readonly error?: Err | undefined
  /** Default queue (default `"default"`); `enqueue(…, { queue })` overrides it. */
  readonly queue?: string | undefined
  /** `false`, a number of retries, any `Schedule`, or a `RetryPolicy` (default: Sidekiq's 25). */
  readonly retry?: RetryPolicy.RetryInput | undefined
  /** Interrupt a run that takes longer; the attempt fails with `JobTimeout` and is retried. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Typed settings for features that plug in later (a lock, a unique key, a rate limit, a
   * priority), keyed by `Context` keys as `Rpc` and `Workflow` annotations are. Middleware and
   * the worker read them from `CurrentJob`'s `annotations`; `.annotate(key, value)` adds one.
   */
  readonly annotations?: Context.Context<never> | undefined
}

/** When and where to enqueue. */
export interface EnqueueOptions {
  /** Your own id: enqueueing an id that exists is a no-op reported as `duplicate`. */
  readonly id?: string | undefined
  /** Overrides the job's queue. */
  readonly queue?: string | undefined
  /** Run after this delay (Sidekiq's perform_in; `PersistedQueue.offer` names it `delay` too). */
  readonly delay?: Duration.Input | undefined
  /** Run at this time (perform_at). */
  readonly at?: DateTime.DateTime.Input | undefined
}

/**
 * Handler type of a job: payload and job info in, success out; fails with its typed errors,
 * a control signal, or the errors of enqueueing follow-up jobs (retried like any failure).
 */
export type HandlerFunction<P extends AnySchema, S extends AnySchema, Err extends AnySchema, R> = (
  payload: P["Type"],
  job: JobInfo
) => Effect.Effect<S["Type"], Err["Type"] | JobControl | EnqueueError | QueueStoreError, R>

/**
 * A handler written as a generator function, the body of an `Effect.gen`:
 * `SendWelcome.handle(function* ({ userId }, job) { ... })`. The generator function is
 * built once, where an arrow returning `Effect.gen(function* () { ... })` builds one per
 * run; V8 keeps each of those per-run generator closures' surroundings alive across a young
 * collection, which grows a busy worker's memory.
 */
export type HandlerGenerator<
  P extends AnySchema,
  S extends AnySchema,
  Err extends AnySchema,
  Eff extends Effect.Effect<any, Err["Type"] | JobControl | EnqueueError | QueueStoreError, any>
> = (payload: P["Type"], job: JobInfo) => Generator<Eff, S["Type"], never>

/** The services the effects a generator handler yields need. */
export type GeneratorRequirements<Eff> = [Eff] extends [never]
  ? never
  : [Eff] extends [Effect.Effect<infer _A, infer _E, infer R>]
    ? R
    : never

const TypeId = "~@effect-jobs/core/Job" as const

/** A job definition. */
export interface Job<
  out Name extends string = string,
  in out P extends AnySchema = AnySchema,
  in out S extends AnySchema = AnySchema,
  in out Err extends AnySchema = AnySchema
> extends Pipeable.Pipeable {
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly payloadSchema: P
  readonly successSchema: S
  readonly errorSchema: Err
  readonly queue: string
  readonly retry: RetryPolicy.RetryPolicy
  readonly timeout: Duration.Duration | undefined
  /** The options as given. */
  readonly options: JobOptions<PayloadInput, S, Err>
  /** Typed settings read by middleware and the worker (see `JobOptions.annotations`). */
  readonly annotations: Context.Context<never>
  /** A copy of this definition with one more annotation. */
  annotate<I, A>(key: Context.Key<I, A>, value: A): Job<Name, P, S, Err>
  /** A copy of this definition with these annotations added (theirs win). */
  annotateMerge<I>(annotations: Context.Context<I>): Job<Name, P, S, Err>
  /** @internal */
  readonly codec: PayloadCodec
  /**
   * Registers the handler (worker side): provide the layer to `JobWorker.layer` or the test
   * kit. Registration layers merge: `Layer.mergeAll(A.toLayer(…), B.toLayer(…))` keeps both.
   */
  toLayer<Eff extends Effect.Effect<any, Err["Type"] | JobControl | EnqueueError | QueueStoreError, any> = never>(
    handler: HandlerGenerator<P, S, Err, Eff>
  ): Layer.Layer<JobRegistry.JobRegistry, never, Exclude<GeneratorRequirements<Eff>, CurrentJob | Scope.Scope>>
  toLayer<R>(
    handler: HandlerFunction<P, S, Err, R>
  ): Layer.Layer<JobRegistry.JobRegistry, never, Exclude<R, CurrentJob | Scope.Scope>>
  /** Attaches the handler without registering it; register several at once with `JobRegistry.add`. */
  handle<Eff extends Effect.Effect<any, Err["Type"] | JobControl | EnqueueError | QueueStoreError, any> = never>(
    handler: HandlerGenerator<P, S, Err, Eff>
  ): JobHandler<GeneratorRequirements<Eff>>
  handle<R>(handler: HandlerFunction<P, S, Err, R>): JobHandler<R>
  /** Enqueues one job through the `JobClient`. */
  enqueue(
    payload: P["Type"],
    options?: EnqueueOptions
  ): Effect.Effect<EnqueueResult, EnqueueError | QueueStoreError, JobClient>
  /** Enqueues many jobs, validated first, then written in chunks of one call each. */
  enqueueMany(
    payloads: Iterable<P["Type"]>,
    options?: Omit<EnqueueOptions, "id">
  ): Effect.Effect<ReadonlyArray<EnqueueResult>, EnqueueError | QueueStoreError, JobClient>
}

/** Any job definition. */
export type Any = Job<string, any, any, any>

/** A handler attached to its definition, requiring `R`. */
export interface JobHandler<out R> {
  readonly job: Any
  readonly run: (payload: unknown, info: JobInfo) => Effect.Effect<unknown, unknown, R>
}

/** The payload type of a definition. */
export type Payload<J> = J extends Job<string, infer P, any, any> ? P["Type"] : never

const JobProto = {
  [TypeId]: TypeId,
  pipe() {
    // biome-ignore lint/complexity/noArguments: Pipeable's variadic pipe
    return Pipeable.pipeArguments(this, arguments)
  },
  handle(this: Any, handler: (payload: unknown, info: JobInfo) => unknown) {
    const run = isGeneratorFunction(handler)
      ? Effect.fnUntraced(handler as (payload: unknown, info: JobInfo) => Generator<Effect.Effect<unknown>, unknown>)
      : handler
    return { job: this, run }
  },
  annotate(this: Any, key: Context.Key<any, any>, value: unknown) {
    return Object.assign(Object.create(JobProto), this, { annotations: Context.add(this.annotations, key, value) })
  },
  annotateMerge(this: Any, annotations: Context.Context<any>) {
    return Object.assign(Object.create(JobProto), this, {
      annotations: Context.merge(this.annotations, annotations as Context.Context<never>)
    })
  },
  toLayer(this: Any, handler: (payload: unknown, info: JobInfo) => unknown) {
    return JobRegistry.add(this.handle(handler as HandlerFunction<any, any, any, never>))
  },
  enqueue(this: Any, payload: unknown, options?: EnqueueOptions) {
    return JobClient.use((client) => client.enqueue(this, payload, options))
  },
  enqueueMany(this: Any, payloads: Iterable<unknown>, options?: Omit<EnqueueOptions, "id">) {
    return JobClient.use((client) => client.enqueueMany(this, payloads, options))
  }
}

const isGeneratorFunction = (f: Function): boolean => Object.prototype.toString.call(f) === "[object GeneratorFunction]"

/**
 * Defines a job. Throws at definition time on a malformed name, queue, retry or timeout, and
 * on a schema made by a second copy of `effect`.
 */
export const make = <
  const Name extends string,
  P extends PayloadInput,
  S extends AnySchema = typeof Schema.Void,
  Err extends AnySchema = typeof Schema.Never
>(
  name: Name,
  options: JobOptions<P, S, Err>
): Job<Name, PayloadSchema<P>, S, Err> => {
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/.test(name)) {
    throw new TypeError(
      `Job.make: name ${JSON.stringify(name)} must start with a letter or '_' and use letters, digits, '_', '.', ':' or '-'`
    )
  }
  const queue = options.queue ?? "default"
  const problem = queueNameProblem(queue)
  if (problem !== undefined) throw new TypeError(`Job.make(${name}): ${problem}`)
  let timeout: Duration.Duration | undefined
  if (options.timeout !== undefined) {
    const parsed = Duration.fromInput(options.timeout)
    if (parsed._tag === "None") {
      throw new TypeError(`Job.make(${name}): timeout ${String(options.timeout)} is not a duration (try "30 seconds")`)
    }
    timeout = parsed.value
    if (Duration.toMillis(timeout) <= 0) throw new RangeError(`Job.make(${name}): timeout must be positive`)
  }
  let retry: RetryPolicy.RetryPolicy
  try {
    retry = RetryPolicy.fromInput(options.retry)
  } catch (error) {
    throw new RangeError(`Job.make(${name}): ${(error as Error).message}`)
  }
  const foreign = foreignSchemaIn(options)
  if (foreign !== undefined) throw new TypeError(secondEffectCopy(name, foreign))
  const payloadSchema = (
    Schema.isSchema(options.payload) ? options.payload : Schema.Struct(options.payload as Schema.Struct.Fields)
  ) as PayloadSchema<P>
  const job = Object.create(JobProto)
  Object.assign(job, {
    name,
    payloadSchema,
    successSchema: options.success ?? Schema.Void,
    errorSchema: options.error ?? Schema.Never,
    queue,
    retry,
    timeout,
    options,
    annotations: options.annotations ?? Context.empty(),
    codec: makePayloadCodec(payloadSchema)
  })
  return job
}

/** Whether a value is a job definition. */
export const isJob = (u: unknown): u is Any => typeof u === "object" && u !== null && TypeId in u
