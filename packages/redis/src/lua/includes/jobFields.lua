-- jobFields: the stored fields of a job, as the admin reads (get, listQueue, list) return them.

-- Appends the job's record, payload, error lines and dead reason to `out` (false where absent).
local function appendJobFields(out, id, metaKey, payloadKey, errorsKey, reasonKey)
  out[#out + 1] = redis.call("HGET", metaKey, id)
  out[#out + 1] = redis.call("HGET", payloadKey, id)
  out[#out + 1] = redis.call("HGET", errorsKey, id)
  out[#out + 1] = redis.call("HGET", reasonKey, id)
end
