-- errors: a job's failed attempts, one JSON text per line, never decoded here.

-- Appends one attempt's JSON text, keeping the newest `maxKept` lines. JSON text never holds
-- a raw newline (JSON.stringify escapes it), so lines split safely without decoding.
local function appendError(errorsKey, id, errorJson, maxKept)
  if errorJson == "" then return end
  local text = redis.call("HGET", errorsKey, id)
  if text then text = text .. "\n" .. errorJson else text = errorJson end
  local lines = 1
  for _ in string.gmatch(text, "\n") do lines = lines + 1 end
  while lines > maxKept do
    local cut = string.find(text, "\n", 1, true)
    text = string.sub(text, cut + 1)
    lines = lines - 1
  end
  redis.call("HSET", errorsKey, id, text)
end
