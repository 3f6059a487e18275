-- batch: one command for many items, in pieces (Lua's unpack has a stack limit near 8,000).

-- `command key items…` in pieces of at most 1,000 items.
local function callEach(command, key, items)
  for first = 1, #items, 1000 do
    redis.call(command, key, unpack(items, first, math.min(#items, first + 999)))
  end
end

-- HMGET of any number of fields: the values in order (false where absent).
local function hmgetEach(key, fields)
  if #fields <= 1000 then return redis.call("HMGET", key, unpack(fields)) end
  local values = {}
  for first = 1, #fields, 1000 do
    local part = redis.call("HMGET", key, unpack(fields, first, math.min(#fields, first + 999)))
    for _, value in ipairs(part) do values[#values + 1] = value end
  end
  return values
end

-- Deletes the records of jobs (meta, payload, error lines): one command per hash.
local function deleteRecords(metaKey, payloadKey, errorsKey, ids)
  callEach("HDEL", metaKey, ids)
  callEach("HDEL", payloadKey, ids)
  callEach("HDEL", errorsKey, ids)
end
