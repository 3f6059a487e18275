import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { freePort } from "@effect-jobs/redis/testing"

const script = fileURLToPath(new URL("../src/embedded-http.ts", import.meta.url))

describe("embedding: the worker inside an Effect HTTP service", () => {
  let child: ChildProcess | undefined
  afterAll(() => {
    child?.kill("SIGKILL")
  })

  it("serves requests, runs the jobs they enqueue, and stops both on SIGTERM", async () => {
    const port = await freePort()
    const env = { ...process.env }
    delete env.REDIS_URL
    child = spawn(process.execPath, [script, "--port", String(port)], { env })
    let output = ""
    child.stdout?.on("data", (chunk) => (output += chunk))
    child.stderr?.on("data", (chunk) => (output += chunk))
    while (!output.includes("Listening on")) {
      if (child.exitCode !== null) assert.fail(`exited early: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
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

    while (![1, 2, 3].every((n) => output.includes(`resized img-${n} to 200px`))) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const exited = once(child, "exit")
    child.kill("SIGTERM")
    await exited
    child = undefined
  })
})
