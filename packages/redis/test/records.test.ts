import { assert, describe, it } from "@effect/vitest"
import * as PayloadHeader from "../src/internal/payloadHeader.ts"
import { decodeErrors, decodeMeta } from "../src/internal/records.ts"

describe("decodeMeta", () => {
  it("reads every field of a record the scripts wrote", () => {
    assert.deepStrictEqual(decodeMeta("l+:3:4:1700000000000:1700000000500:-1:Send:Welcome\nmail"), {
      state: "leased",
      attempt: 3,
      claims: 4,
      enqueuedAt: 1700000000000,
      runAt: 1700000000500,
      diedAt: -1,
      // Everything after the sixth colon is the name, colons and newlines included.
      name: "Send:Welcome\nmail"
    })
    assert.strictEqual(decodeMeta("x:1:1:2:3:4:")?.state, "dead")
    assert.strictEqual(decodeMeta("x:1:1:2:3:4:")?.name, "")
  })

  it("refuses records that are not one", () => {
    for (const text of [
      undefined,
      42,
      "",
      "q:1:1:2:3:4:Name", // unknown state
      "l++:1:1:2:3:4:Name",
      "l:1:1:2:3:Name", // a field short
      "l:1:1:2:3.5:4:Name",
      "l:1::2:3:4:Name",
      "l:-:1:2:3:4:Name",
      "l:1:1:2:3:4x:Name",
      "l 1:1:2:3:4:Name"
    ]) {
      assert.isUndefined(decodeMeta(text), String(text))
    }
  })
})

describe("decodeErrors", () => {
  const line = (error: object) => JSON.stringify(error)
  const attempt = {
    attempt: 1,
    tag: "MailerDown",
    message: "timed out",
    cause: "MailerDown: timed out\n    at send",
    at: 5
  }

  it("reads the stored AttemptError lines, oldest first", () => {
    const second = { ...attempt, attempt: 2, at: 9 }
    assert.deepStrictEqual(decodeErrors(`${line(attempt)}\n${line(second)}`), [attempt, second])
    assert.deepStrictEqual(decodeErrors(""), [])
    assert.deepStrictEqual(decodeErrors(undefined), [])
  })

  it("keeps a line that is not an AttemptError visible as an Unreadable one", () => {
    for (const text of [
      "not json",
      "[1,2]",
      "null",
      line({ ...attempt, at: "5" }),
      line({ ...attempt, tag: undefined })
    ]) {
      assert.deepStrictEqual(decodeErrors(text), [{ attempt: 0, tag: "Unreadable", message: text, cause: text, at: 0 }])
    }
  })

  it("drops fields that are not part of an AttemptError", () => {
    assert.deepStrictEqual(decodeErrors(line({ ...attempt, extra: true })), [attempt])
  })
})

describe("payload header", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

  it("stores a job's trace context ahead of its payload and reads both back", () => {
    const stored = PayloadHeader.encode('{"to":"ada"}', traceparent)
    assert.strictEqual(stored, `\u0001${traceparent}\u0001{"to":"ada"}`)
    assert.strictEqual(PayloadHeader.payloadOf(stored), '{"to":"ada"}')
    assert.strictEqual(PayloadHeader.traceOf(stored), traceparent)
  })

  it("reads records written before the header existed as they are", () => {
    assert.strictEqual(PayloadHeader.payloadOf('{"to":"ada"}'), '{"to":"ada"}')
    assert.isUndefined(PayloadHeader.traceOf('{"to":"ada"}'))
  })

  it("stores no header for a missing or malformed trace context", () => {
    assert.strictEqual(PayloadHeader.encode("{}", undefined), "{}")
    for (const bad of ["", "00-abc-def-01", `${traceparent}\u0001x`, `${traceparent}0`, "x".repeat(10_000)]) {
      assert.strictEqual(PayloadHeader.encode("{}", bad), "{}", JSON.stringify(bad.slice(0, 80)))
    }
  })

  it("skips a header it does not recognise and still finds the payload", () => {
    const newer = `\u0001v2;${traceparent};baggage=x\u0001[1,2]`
    assert.strictEqual(PayloadHeader.payloadOf(newer), "[1,2]")
    assert.isUndefined(PayloadHeader.traceOf(newer))
  })

  it("leaves text whose header never closes as the payload, so it fails its decode visibly", () => {
    const unclosed = `\u0001${"a".repeat(PayloadHeader.maxHeaderLength + 1)}\u0001{}`
    assert.strictEqual(PayloadHeader.payloadOf(unclosed), unclosed)
    assert.isUndefined(PayloadHeader.traceOf(unclosed))
  })
})
