import * as QueueStore from "../src/QueueStore.ts"
import { suite } from "./conformance/QueueStoreSuite.ts"

suite("QueueStore.layerMemory", QueueStore.layerMemory(), {
  clock: "test-clock",
  withLimits: (limits) => QueueStore.layerMemory(limits)
})
