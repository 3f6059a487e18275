import * as Fs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { luaDirectory, scripts } from "../src/internal/scripts.ts"

describe("scripts", () => {
  it("reads every script, its includes expanded", () => {
    for (const [name, script] of Object.entries(scripts())) {
      assert.notInclude(script.lua, "--- @include", name)
    }
  })

  it("finds the Lua files in src/lua from the sources and from the compiled dist", () => {
    const source = new URL("../src/internal/scripts.ts", import.meta.url).href
    const compiled = new URL("../dist/src/internal/scripts.js", import.meta.url).href
    const expected = new URL("../src/lua/", import.meta.url).href
    assert.strictEqual(luaDirectory(source).href, expected)
    assert.strictEqual(luaDirectory(compiled).href, expected)
    assert.isTrue(Fs.existsSync(new URL("claim-14.lua", luaDirectory(compiled))))
  })
})
