--[[
  resume-1: lets workers claim from a paused queue again and wakes them.

  KEYS[1] paused  string  present while the queue is paused

  ARGV[1] channel  string  wake channel

  Returns 1 when the queue was paused, else 0.
  Codes: none.
]]
local resumed = redis.call("DEL", KEYS[1])
if resumed > 0 then redis.call("PUBLISH", ARGV[1], "resume") end
return resumed
