/**
 * Runs a program as the process's main fiber: SIGINT / SIGTERM interrupt it, so scoped
 * layers (a worker included) shut down gracefully before the process exits.
 */
import { type Effect, Runtime } from "effect"

export const runMain: <E, A>(effect: Effect.Effect<A, E>) => void = Runtime.makeRunMain(({ fiber, teardown }) => {
  const onSignal = () => fiber.interruptUnsafe()
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  fiber.addObserver((exit) => {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    teardown(exit, (code) => process.exit(code))
  })
})
