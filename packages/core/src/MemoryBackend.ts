/**
 * The in-memory backend: every store service effect-jobs needs, held in this process.
 *
 * It is the embedded default (one process, nothing to install, lost on exit) and the store
 * of the test kit. For several processes or durability, use the Redis backend.
 */
import * as Layer from "effect/Layer"
import * as ProcessRegistry from "./ProcessRegistry.ts"
import * as QueueStore from "./QueueStore.ts"

/** Queue store and process registry in memory. */
export const layer = (
  options?: QueueStore.MemoryOptions
): Layer.Layer<QueueStore.QueueStore | ProcessRegistry.ProcessRegistry> =>
  Layer.merge(QueueStore.layerMemory(options), ProcessRegistry.layerMemory)
