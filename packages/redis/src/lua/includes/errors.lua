-- errors: a job's failed attempts, one JSON text per line, never decoded here. When older
-- attempts were dropped, the first line counts them:
-- {"tag":"ErrorsDropped","dropped":N,...} (the same entry as core's `JobRecord.errorsDropped`).

local DROPPED_PATTERN = '^{"tag":"ErrorsDropped","dropped":(%d+),'
-- Room kept for that first line when trimming by bytes.
local DROPPED_LINE_BYTES = 256

local function droppedLine(dropped, maxKept, maxBytes)
  return string.format('{"tag":"ErrorsDropped","dropped":%d,"attempt":0,"message":"%d older failed attempt(s) '
    .. 'dropped: a job keeps its newest %d, within %d bytes","cause":"","at":0}', dropped, dropped, maxKept, maxBytes)
end

-- Appends one attempt's JSON text, keeping the newest `maxKept` lines within `maxBytes` bytes
-- in all (the newest line always stays). JSON text never holds a raw newline (JSON.stringify
-- escapes it), so lines split safely without decoding.
local function appendError(errorsKey, id, errorJson, maxKept, maxBytes)
  if errorJson == "" then return end
  if #errorJson > maxBytes - DROPPED_LINE_BYTES then
    -- The client bounds every field far below this; a line this long was not written by it.
    errorJson = string.format('{"attempt":0,"tag":"ErrorTooLarge","message":"an attempt error of %d bytes '
      .. 'was over the history limit of %d bytes","cause":"","at":0}', #errorJson, maxBytes)
  end
  local text = redis.call("HGET", errorsKey, id)
  local lines = {}
  local dropped = 0
  if text then
    for line in string.gmatch(text, "[^\n]+") do lines[#lines + 1] = line end
    local counted = string.match(lines[1] or "", DROPPED_PATTERN)
    if counted then
      dropped = tonumber(counted)
      table.remove(lines, 1)
    end
  end
  lines[#lines + 1] = errorJson
  local bytes = 0
  for _, line in ipairs(lines) do bytes = bytes + #line + 1 end
  local first = 1
  while #lines - first >= 1 and (#lines - first + 1 > maxKept
    or bytes + (dropped > 0 and DROPPED_LINE_BYTES or 0) > maxBytes) do
    bytes = bytes - #lines[first] - 1
    first = first + 1
    dropped = dropped + 1
  end
  local kept = table.concat(lines, "\n", first)
  if dropped > 0 then kept = droppedLine(dropped, maxKept, maxBytes) .. "\n" .. kept end
  redis.call("HSET", errorsKey, id, kept)
end
