"""The Lua scripts of the Redis backends.  Each rule that reads and then
writes is one script, so that requests racing on many nodes cannot slip
between the read and the write (two nodes accepting one code, a 6th guess
judged before the 5th was counted).  The time the rules use is passed in
(ARGV ``now``), like the in-process guard's."""

from __future__ import annotations

from .policy import DAY_MS, HOUR_MS, MINUTE_MS

# KEYS: code, sent (phone), sent (phone, source), lock (phone, source).
# ARGV: now, mac, code ttl, interval, per hour, per day, phone per day (ms
# and counts).  policy.send_refusal's rules, then the new code replaces the
# old one with its tries at 0.  Each send is remembered by its mac, so that
# cancel_send can take it back.
SAVE_CODE = f"""
local now = tonumber(ARGV[1])
local locked = redis.call('PTTL', KEYS[4])
if locked > 0 then return {{'locked', locked}} end
local function times(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - {DAY_MS})
  local sent = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local out = {{}}
  for i = 2, #sent, 2 do table.insert(out, tonumber(sent[i])) end
  return out
end
local by_phone, by_source = times(KEYS[2]), times(KEYS[3])
local interval = tonumber(ARGV[4])
if #by_phone > 0 and interval > 0 then
  local wait = by_phone[#by_phone] + interval - now
  if wait > 0 then return {{'interval', math.min(wait, interval)}} end
end
local rules = {{
  {{'hour', by_source, {HOUR_MS}, tonumber(ARGV[5])}},
  {{'day', by_source, {DAY_MS}, tonumber(ARGV[6])}},
  {{'phone-day', by_phone, {DAY_MS}, tonumber(ARGV[7])}},
}}
for _, rule in ipairs(rules) do
  local inside = {{}}
  for _, t in ipairs(rule[2]) do
    if t > now - rule[3] then table.insert(inside, t) end
  end
  if #inside >= rule[4] then
    return {{rule[1], math.min(inside[#inside - rule[4] + 1] + rule[3] - now, rule[3])}}
  end
end
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], {DAY_MS})
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[2], 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {{'ok', 0}}
"""

# KEYS: this minute's count.  ARGV: now, budget.  The cluster's SMS budget
# (policy.budget_wait), spent before the phone's rules are asked: a send
# they refuse gives it back (DECR), one over the budget is not counted.
SPEND_SMS = f"""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], {2 * MINUTE_MS}) end
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return {MINUTE_MS} - tonumber(ARGV[1]) % {MINUTE_MS}
end
return 0
"""

# KEYS: code, sent (phone), sent (phone, source).  ARGV: mac.
CANCEL_SEND = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'mac') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: code, lock (phone, source).  ARGV: max tries.  Counts the try before
# anyone judges it; a try past the last is refused but leaves the code (see
# record_failure).
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

# KEYS: code.  ARGV: mac.  Never brings a used code back.
REFUND_ATTEMPT = """
if redis.call('HGET', KEYS[1], 'mac') == ARGV[1] and tonumber(redis.call('HGET', KEYS[1], 'tries')) > 0 then
  redis.call('HINCRBY', KEYS[1], 'tries', -1)
end
return 0
"""

# KEYS: code, fail (phone, source).  ARGV: mac.  Compares the stored hash
# with itself (the value the caller read), not with anything a client sent.
CONSUME_CODE = """
if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

# KEYS: code, fail, lock (both per phone and source).  ARGV: max tries, max
# failures, window, lockout.  The code is burned by its last wrong
# judgement, not by the count of tries: a right try judged at the same time
# still logs in.
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


# KEYS: session.  ARGV: ttl (ms), then field, value, ...  A new session,
# its fields and its TTL in one step: it never exists without its TTL.
SAVE_HASH = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS: session.  ARGV: field, value, ...  One field of a stored user
# changed alone: only what changes reaches Redis.  Never a key that has
# gone (HSET would bring back a session without its TTL).
UPDATE_HASH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""
