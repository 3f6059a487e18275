--[[
  removeQuarantined-4: deletes quarantined entries with their record, payload and error lines.

  KEYS[1] quarantine  hash  id -> "<ms>|<reason>"
  KEYS[2] meta        hash  id -> record
  KEYS[3] payload     hash  id -> payload JSON text
  KEYS[4] errors      hash  id -> error lines

  ARGV  ids

  Returns the ids deleted (ids not quarantined are skipped).
  Codes: none.

  Running it twice deletes nothing the second time.
]]
local removed = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call("HDEL", KEYS[1], id) == 1 then
    redis.call("HDEL", KEYS[2], id)
    redis.call("HDEL", KEYS[3], id)
    redis.call("HDEL", KEYS[4], id)
    removed[#removed + 1] = id
  end
end
return removed
