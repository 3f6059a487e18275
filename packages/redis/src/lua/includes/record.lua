-- record: a job's fields in the meta hash, "state:attempt:claims:enqueuedAt:runAt:diedAt:name".
-- States: r ready, s scheduled, t retry, l leased, x dead. The payload lives in its own hash
-- and is never read here: Lua does not decode payload JSON.

local function decodeMeta(text)
  if not text then return nil end
  local state, attempt, claims, enqueuedAt, runAt, diedAt, name =
    string.match(text, "^(%a):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(.*)$")
  if not state then return nil end
  return {
    state = state,
    attempt = tonumber(attempt),
    claims = tonumber(claims),
    enqueuedAt = tonumber(enqueuedAt),
    runAt = tonumber(runAt),
    diedAt = tonumber(diedAt),
    name = name
  }
end

local function encodeMeta(m)
  return string.format("%s:%d:%d:%d:%d:%d:", m.state, m.attempt, m.claims, m.enqueuedAt, m.runAt, m.diedAt) .. m.name
end
