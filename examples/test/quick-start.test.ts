import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, it } from "@effect/vitest"

const script = fileURLToPath(new URL("../src/quick-start.ts", import.meta.url))

it("the README quick start runs the jobs due now, leaves the scheduled ones, and stops gracefully on SIGTERM", async () => {
  const { REDIS_URL: _, ...env } = process.env
  const child = spawn(process.execPath, [script], { env, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  child.stdout.on("data", (chunk) => (out += chunk))
  child.stderr.on("data", (chunk) => (out += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const due = [1, 4, 5].map((id) => `welcome mail to ${id}, attempt 1`)
  for (let waited = 0; waited < 30_000 && !due.every((line) => out.includes(line)); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill("SIGTERM")
  const code = await exited
  for (const line of due) assert.include(out, line)
  for (const id of [2, 3]) assert.notInclude(out, `welcome mail to ${id},`)
  assert.notInclude(out, "Error")
  assert.include([0, 130, 143], code, out)
}, 60_000)
