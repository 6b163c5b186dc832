"""The Lua scripts of the Redis backends.  Each rule that reads and then
writes is one script, so that requests racing on many nodes cannot slip
between the read and the write (two nodes accepting one code, a 6th guess
judged before the 5th was counted).  The time the rules use is passed in
(ARGV ``now``), like the in-process guard's."""

from __future__ import annotations

from .policy import DAY_MS, HOUR_MS

# KEYS: code, sent, lock.  ARGV: now, mac, code ttl, interval, per hour,
# per day (ms and counts).  policy.send_refusal's rules, then the new code
# replaces the old one with its tries at 0.
SAVE_CODE = f"""
local now = tonumber(ARGV[1])
local locked = redis.call('PTTL', KEYS[3])
if locked > 0 then return {{'locked', locked}} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - {DAY_MS})
local sent = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local n = #sent / 2
if n > 0 and tonumber(ARGV[4]) > 0 then
  local wait = tonumber(sent[2 * n]) + tonumber(ARGV[4]) - now
  if wait > 0 then return {{'interval', math.min(wait, tonumber(ARGV[4]))}} end
end
local rules = {{{{'hour', {HOUR_MS}, tonumber(ARGV[5])}}, {{'day', {DAY_MS}, tonumber(ARGV[6])}}}}
for _, rule in ipairs(rules) do
  local inside = {{}}
  for i = 2, #sent, 2 do
    local t = tonumber(sent[i])
    if t > now - rule[2] then table.insert(inside, t) end
  end
  if #inside >= rule[3] then
    return {{rule[1], math.min(inside[#inside - rule[3] + 1] + rule[2] - now, rule[2])}}
  end
end
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], {DAY_MS})
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[2], 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {{'ok', 0}}
"""

# KEYS: code, lock.  ARGV: max tries.  Counts the try before anyone judges
# it; a try past the last is refused but leaves the code (see record_failure).
TAKE_ATTEMPT = """
local locked = redis.call('PTTL', KEYS[2])
if locked > 0 then return {'locked', '', locked} end
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return {'none', '', 0} end
if redis.call('HINCRBY', KEYS[1], 'tries', 1) > tonumber(ARGV[1]) then
  return {'burned', '', 0}
end
return {'judge', mac, 0}
"""

# KEYS: code, fail.  ARGV: mac.  Compares the stored hash with itself (the
# value the caller read), not with anything a client sent.
CONSUME_CODE = """
if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

# KEYS: code, fail, lock.  ARGV: max tries, max failures, window, lockout.
# The code is burned by its last wrong judgement, not by the count of
# tries: a right try judged at the same time still logs in.
RECORD_FAILURE = """
if redis.call('EXISTS', KEYS[1]) == 1
   and redis.call('HINCRBY', KEYS[1], 'wrong', 1) >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
end
local fails = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if fails >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""

# KEYS: session.  ARGV: now, idle ttl.  Read the user and push the idle TTL
# back, never past the absolute expiry `exp`: one round trip per request.
LOAD_AND_TOUCH = """
local f = redis.call('HMGET', KEYS[1], 'id', 'nickName', 'icon', 'exp')
if not f[1] then return false end
-- A session from before absolute expiry existed has no `exp`: idle TTL only.
local exp = tonumber(f[4]) or (tonumber(ARGV[1]) + tonumber(ARGV[2]))
local left = math.min(tonumber(ARGV[2]), exp - tonumber(ARGV[1]))
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], left)
return {f[1], f[2], f[3]}
"""
