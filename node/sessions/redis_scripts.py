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


# A session's key may hold, instead of a session, one of two marks for a
# login in flight (between its row in Postgres and its save here), each for
# policy.IN_FLIGHT: `ended` (the row id a logout-all ended) and `pending`
# (with the fields a rename changed).  Neither has an `id`: a read finds
# no session there.

# KEYS: session.  ARGV: ttl (ms), row, then field, value, ...  A new
# session, its fields and its TTL in one step (it never exists without its
# TTL), unless a logout-all ended its row already (0); a rename's pending
# fields win over the ones the login read.
SAVE_HASH = """
local ended, pending = unpack(redis.call('HMGET', KEYS[1], 'ended', 'pending'))
if ended then
  if tonumber(ended) >= tonumber(ARGV[2]) then return 0 end
  -- An older row's mark (MISTAKE=phone-token: one key for all its logins).
  redis.call('DEL', KEYS[1])
  pending = false
end
local renamed = pending and redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if renamed then
  redis.call('HSET', KEYS[1], unpack(renamed))
  redis.call('HDEL', KEYS[1], 'pending')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS: session.  ARGV: in flight (ms), then field, value, ...  Fields of a
# stored user changed alone (only what changes reaches Redis), without
# touching its TTL: 1.  A session not stored (yet) gets them as pending: 0.
UPDATE_HASH = """
local id, ended = unpack(redis.call('HMGET', KEYS[1], 'id', 'ended'))
if ended then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if id then return 1 end
redis.call('HSET', KEYS[1], 'pending', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
"""

# KEYS: session.  ARGV: row, in flight (ms).  Logout-all: the session, if
# stored, ends (1), and the mark of its row takes its place.
END_HASH = """
local alive = redis.call('HEXISTS', KEYS[1], 'id')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ended', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return alive
"""

# MISTAKE=json-string: the same three on a string.  The marks are JSON too:
# {"ended": row} and {"pending": {field: value}}.

# KEYS: session.  ARGV: ttl (ms), row, the user's JSON.
SAVE_JSON = """
local old = redis.call('GET', KEYS[1])
local value = ARGV[3]
if old then
  local mark = cjson.decode(old)
  if mark.ended and mark.ended >= tonumber(ARGV[2]) then return 0 end
  if mark.pending then
    local user = cjson.decode(value)
    for field, v in pairs(mark.pending) do user[field] = v end
    value = cjson.encode(user)
  end
end
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
return 1
"""

# KEYS: session.  ARGV: in flight (ms), fields (JSON).  The whole value read,
# changed and written back, its TTL kept: 1; a session not stored gets them
# as pending: 0.
UPDATE_JSON = """
local old = redis.call('GET', KEYS[1])
local fields = cjson.decode(ARGV[2])
local value = old and cjson.decode(old) or {pending = {}}
if value.ended then return 0 end
local into = value.pending or value
for field, v in pairs(fields) do into[field] = v end
if value.pending then
  redis.call('SET', KEYS[1], cjson.encode(value), 'PX', ARGV[1])
  return 0
end
redis.call('SET', KEYS[1], cjson.encode(value), 'KEEPTTL')
return 1
"""

# KEYS: session.  ARGV: row, in flight (ms).
END_JSON = """
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], cjson.encode({ended = tonumber(ARGV[1])}), 'PX', ARGV[2])
return old and cjson.decode(old).id and 1 or 0
"""
