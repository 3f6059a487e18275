/**
 * Two copies of `effect` in one tree: a second copy is made here by hard-linking the
 * installed one's files under another path (Node loads a module once per path), then its
 * schemas are handed to `Job.make`.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { Job } from "@effect-jobs/core"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Schema } from "effect"

const installed = Path.dirname(createRequire(import.meta.url).resolve("effect/package.json"))

const linkTree = (from: string, to: string): void => {
  Fs.mkdirSync(to, { recursive: true })
  for (const entry of Fs.readdirSync(from, { withFileTypes: true })) {
    const source = Path.join(from, entry.name)
    const target = Path.join(to, entry.name)
    if (entry.isDirectory()) linkTree(source, target)
    else {
      try {
        Fs.linkSync(source, target)
      } catch {
        Fs.copyFileSync(source, target)
      }
    }
  }
}

let dir = ""
let Foreign: typeof Schema

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-jobs-two-effects-"))
  const copy = Path.join(dir, "node_modules", "effect")
  linkTree(Path.join(installed, "dist"), Path.join(copy, "dist"))
  Fs.copyFileSync(Path.join(installed, "package.json"), Path.join(copy, "package.json"))
  Foreign = await import(pathToFileURL(Path.join(copy, "dist", "Schema.js")).href)
}, 60_000)

afterAll(() => {
  if (dir !== "") Fs.rmSync(dir, { recursive: true, force: true })
})

const refusal = (make: () => unknown): string => {
  try {
    make()
  } catch (error) {
    return (error as Error).message
  }
  return "accepted"
}

describe("a second copy of effect", () => {
  it("is named, with the fix, when a payload field comes from it", () => {
    assert.notStrictEqual(Foreign.String, Schema.String)
    const message = refusal(() => Job.make("SendEmail", { payload: { to: Foreign.String } }))
    assert.include(
      message,
      'Job.make(SendEmail): its payload field "to" comes from a second copy of the "effect" package'
    )
    assert.include(message, "npm ls effect")
    assert.include(message, "npm dedupe")
  })

  it("is named when the whole payload schema or the error schema comes from it", () => {
    assert.include(
      refusal(() => Job.make("Import", { payload: Foreign.Struct({ rows: Foreign.Number }) })),
      "its payload schema comes from a second copy"
    )
    class Down extends Foreign.TaggedError<Down>()("Down", {}) {}
    assert.include(
      refusal(() => Job.make("Import", { payload: { rows: Schema.Number }, error: Down })),
      "its error schema comes from a second copy"
    )
  })

  it("leaves schemas of the package's own copy alone", () => {
    class Down extends Schema.TaggedError<Down>()("Down", {}) {}
    const job = Job.make("Import", {
      payload: Schema.Struct({ rows: Schema.Number }),
      error: Down,
      success: Schema.String
    })
    assert.strictEqual(job.name, "Import")
  })
})
