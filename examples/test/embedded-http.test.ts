import { assert, describe, it } from "@effect/vitest"
import { freePort } from "@effect-jobs/redis/testing"
import { startExample } from "./helpers.ts"

describe("embedding: the worker inside an Effect HTTP service", () => {
  it("serves requests, runs the jobs they enqueue, and stops both on SIGTERM, exiting 130 (interrupted)", async () => {
    const port = await freePort()
    const app = startExample("embedded-http", ["--port", String(port)])
    try {
      await app.waitFor("Listening on", 45_000)
      const post = (body: unknown) =>
        fetch(`http://127.0.0.1:${port}/images/resize`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body)
        })
      const accepted = await Promise.all([1, 2, 3].map((n) => post({ imageId: `img-${n}`, width: 200 })))
      for (const response of accepted) {
        assert.strictEqual(response.status, 202)
        assert.isString(((await response.json()) as { id: string }).id)
      }
      const refused = await post({ imageId: 5 })
      assert.strictEqual(refused.status, 422)
      for (const n of [1, 2, 3]) await app.waitFor(`resized img-${n} to 200px`, 10_000)
      app.child.kill("SIGTERM")
      // NodeRuntime.runMain closes the app's scope and exits 130 on an interrupting signal (not killed by it).
      assert.strictEqual(await app.exit, 130, app.output())
    } finally {
      app.child.kill("SIGKILL")
    }
  }, 90_000)
})
