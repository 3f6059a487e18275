-- quarantine: entries this version cannot use are set aside, never deleted (needs record).
-- The job's record, payload and error lines stay where they are, byte for byte, and the
-- queue's quarantine hash says why: id -> "<ms>|<reason>". The jobs behind it run on; an
-- admin lists, deletes or re-enqueues quarantined entries (`effect-jobs admin quarantine`).

-- Why a meta entry cannot be used here: a newer format version (`<version>~` before the state
-- letter; records without it are version 1, this one), or unreadable text.
local function recordProblem(text)
  if not text then return "the job has no record (its meta entry is missing)" end
  local version = string.match(text, "^(%d+)~")
  if version and tonumber(version) > RECORD_VERSION then
    return "record format version " .. version .. " is newer than this worker's " .. RECORD_VERSION
      .. ": left for a newer worker (re-enqueue it from the quarantine once one runs)"
  end
  local attempt = string.match(text, "^%a%+?:(%-?%d+):")
  if attempt and #attempt > MAX_DIGITS then
    return "the attempt count " .. attempt .. " is out of range"
  end
  return "the record is not in a format this worker reads"
end

-- Sets one entry aside with the reason its record gives.
local function quarantine(quarantineKey, now, id, metaText)
  redis.call("HSET", quarantineKey, id, now .. "|" .. recordProblem(metaText))
end
