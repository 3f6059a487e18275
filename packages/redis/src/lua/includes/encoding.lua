-- encoding: keeps a queue's leases set and token hash in Redis's hashtable encodings.
-- Redis stores a small hash or sorted set (up to 128 entries of up to 64 bytes, by default)
-- as a listpack, where every lookup and insert scans the list. A worker's leases live there
-- (up to its concurrency): perf put those scans at about 15% of redis-server's CPU in the
-- bench's drain at concurrency 100. One entry longer than 64 bytes converts the key to a
-- hashtable (a skiplist for the sorted set), and Redis never converts back while the key
-- exists, so the claim that leases jobs keeps this marker in both. The marker is longer
-- than any job id (at most 200 characters), so no job can be mistaken for it; its lease never
-- expires (score +inf, so the reaper never sees it), and counts of leased jobs leave it out.
local ENCODING_MARKER = "effect-jobs: keeps this key in its hashtable encoding, see includes/encoding.lua "
  .. string.rep("-", 130)

-- Appends the marker to the field/value pairs of an HSET on the token hash and to the
-- score/member pairs of a ZADD on the leases set.
local function withEncodingMarker(tokenArgs, leaseArgs)
  tokenArgs[#tokenArgs + 1] = ENCODING_MARKER
  tokenArgs[#tokenArgs + 1] = "1"
  leaseArgs[#leaseArgs + 1] = "+inf"
  leaseArgs[#leaseArgs + 1] = ENCODING_MARKER
end

-- The number of jobs in a leases set: those with a finite deadline, so not the marker.
local function leasedCount(leasesKey)
  return redis.call("ZCOUNT", leasesKey, "-inf", "(+inf")
end
