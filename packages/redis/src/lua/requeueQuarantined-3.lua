--[[
  requeueQuarantined-3: puts quarantined entries back at the tail of their queue's ready list.
  A record of a newer format goes back unchanged, for a newer worker; a record this version
  reads (repaired by hand) becomes ready; an unreadable one is rewritten as a fresh ready
  record (attempt 0, enqueued now) when its job name can still be read from it.

  KEYS[1] quarantine  hash  id -> "<ms>|<reason>"
  KEYS[2] meta        hash  id -> record
  KEYS[3] ready       list  ready ids

  ARGV[1] channel  string  wake channel
  ARGV[2..] ids

  Returns the ids put back (an id not quarantined, or without a record or a readable job
  name, stays where it is).
  Codes: none.

  Running it twice puts nothing back the second time: the entries left the quarantine.
]]
--- @include "time"
--- @include "record"

local now = nowMillis()
local moved = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local text = redis.call("HGET", KEYS[2], id)
  if redis.call("HEXISTS", KEYS[1], id) == 1 and text then
    local newer = string.match(text, "^(%d+)~")
    local m = decodeMeta(text)
    local record
    if newer and tonumber(newer) > RECORD_VERSION then
      record = text
    elseif m then
      m.state = "r"
      m.runAt = now
      record = encodeMeta(m)
    else
      -- The name is what follows the sixth ':' (names may hold ':' themselves).
      local plus, name = string.match(text, "^%a?(%+?):[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:(.+)$")
      if name then
        record = encodeMeta({ state = "r", indexed = plus == "+", attempt = 0, claims = 0, enqueuedAt = now,
          runAt = now, diedAt = 0, name = name })
      end
    end
    if record then
      redis.call("HSET", KEYS[2], id, record)
      redis.call("HDEL", KEYS[1], id)
      redis.call("RPUSH", KEYS[3], id)
      moved[#moved + 1] = id
    end
  end
end
if #moved > 0 then redis.call("PUBLISH", ARGV[1], "requeueQuarantined") end
return moved
