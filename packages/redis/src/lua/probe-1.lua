--[[
  probe-1: the startup check that this user may run scripts that write under the prefix.

  KEYS[1] probe  string  a scratch key under the prefix, expires at once

  ARGV[1] channel  string  a channel to publish on (checks the PUBLISH permission)

  Returns Redis time, ms.
  Codes: none.
]]
--- @include "time"

redis.call("SET", KEYS[1], "1", "PX", 1000)
redis.call("PUBLISH", ARGV[1], "probe")
return nowMillis()
