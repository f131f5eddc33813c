/**
 * The Lua scripts of the Redis event queue. Each state change is one script, and Redis runs a
 * script to the end before it serves any other command, so two nodes never see (or write) half
 * of a change: that is what makes "one lease per event at a time" hold across nodes.
 *
 * Key layout, every key under the queue's prefix P (default `laminar:`):
 *   P seq             string  the last event id handed out (INCR)
 *   P ev:<id>         hash    a queued event: fn, q (qualifier, absent when none), rid, p (payload
 *                             bytes), acc, del (deliveries), inv, fe, thr (counters), tok (the
 *                             current lease token, absent when not leased), la (the last attempt
 *                             as JSON, without its bytes), lr (the last attempt's response bytes)
 *   P due:<fn>        zset    the function's queued events by due time: the run time while
 *                             waiting, the lease expiry while leased, as the SQLite queue's due_at
 *   P leased:<fn>     zset    the function's leased events by lease expiry (the in-flight cap)
 *   P acc:<fn>        zset    the function's queued events by acceptance time (oldest age)
 *   P fns             zset    functions that have queued events, by their earliest due time:
 *                             "is anything due?" and the wake-up time without visiting functions
 *   P depth           hash    function -> queued events; kept at 0 once drained, for the gauge
 *   P cursor          string  the function leased last: fairness is shared by every node
 *   P failed:<id>     hash    a failed event: the fields of ev:<id> plus run, reason, fat
 *                             (failed at), dest (JSON list of targets)
 *   P failedby:<fn>   zset    the function's failed events, scored by id (paging)
 * Members of the zsets are ids zero-padded to 16 digits, so equal scores order by id (enqueue
 * order), as the SQLite queue's `ORDER BY due_at, id` does.
 *
 * Every script takes the prefix as ARGV[1] and KEYS[1] = P seq. The other keys are built inside
 * the script from the prefix, which standalone Redis allows; on Redis Cluster, a prefix with a
 * hash tag (`{laminar}:`) puts every key in the slot of KEYS[1].
 *
 * Redis does not undo the writes of a script that fails half-way, so each script checks
 * everything (the token above all) before its first write.
 */

/** Helpers every script starts with. */
const COMMON = `
local P = ARGV[1]
local function pad(id) return string.rep('0', 16 - #id) .. id end
local function unpad(m) return (string.gsub(m, '^0+', '')) end
-- The function's place in "fns": its earliest due time, or gone when it has no events.
local function refresh(fn)
  local first = redis.call('ZRANGE', P .. 'due:' .. fn, 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', P .. 'fns', first[2], fn) else redis.call('ZREM', P .. 'fns', fn) end
end
-- Takes the event out of every index of the queue (not its hash).
local function unqueue(fn, m)
  redis.call('ZREM', P .. 'due:' .. fn, m)
  redis.call('ZREM', P .. 'leased:' .. fn, m)
  redis.call('ZREM', P .. 'acc:' .. fn, m)
  redis.call('HINCRBY', P .. 'depth', fn, -1)
  refresh(fn)
end
-- The event's hash when the token is its current lease's, else nil.
local function held(id, token)
  local k = P .. 'ev:' .. id
  if redis.call('HGET', k, 'tok') ~= token then return nil end
  return k
end
`;

/** ARGV: P, fn, rid, payload, acceptedAt, runAt[, qualifier]. Returns the new id. */
export const ENQUEUE = `${COMMON}
local fn, acc, runAt = ARGV[2], ARGV[5], ARGV[6]
local id = tostring(redis.call('INCR', KEYS[1]))
local m = pad(id)
local k = P .. 'ev:' .. id
redis.call('HSET', k, 'fn', fn, 'rid', ARGV[3], 'p', ARGV[4], 'acc', acc, 'del', 0, 'inv', 0, 'fe', 0, 'thr', 0)
if ARGV[7] then redis.call('HSET', k, 'q', ARGV[7]) end
redis.call('ZADD', P .. 'due:' .. fn, runAt, m)
redis.call('ZADD', P .. 'acc:' .. fn, acc, m)
redis.call('HINCRBY', P .. 'depth', fn, 1)
-- LT: a function's earliest due time only moves earlier when an event is added.
redis.call('ZADD', P .. 'fns', 'LT', runAt, fn)
return id
`;

/**
 * ARGV: P, now, expiresAt, token, defaultCap ('' for none), then pairs of function and cap.
 * Returns nil, or { id, runAt, field, value, ... } of the leased event (deliveries counted).
 */
export const LEASE = `${COMMON}
local now, expiresAt, token, dflt = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local caps = {}
for i = 6, #ARGV - 1, 2 do caps[ARGV[i]] = tonumber(ARGV[i + 1]) end
local names = redis.call('ZRANGEBYSCORE', P .. 'fns', '-inf', now)
if #names == 0 then return false end
-- Byte order, as JavaScript sorts names: Lua's own < follows the server's locale.
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
table.sort(names, before)
-- Round robin: start after the function leased last (by any node), wrapping around.
local start = 1
local cursor = redis.call('GET', P .. 'cursor')
if cursor then
  for i = 1, #names do
    if before(cursor, names[i]) then start = i; break end
  end
end
for n = 0, #names - 1 do
  local fn = names[(start - 1 + n) % #names + 1]
  local cap = caps[fn]
  if cap == nil and dflt ~= '' then cap = tonumber(dflt) end
  if cap == nil or redis.call('ZCOUNT', P .. 'leased:' .. fn, '(' .. now, '+inf') < cap then
    local first = redis.call('ZRANGE', P .. 'due:' .. fn, 0, 0, 'WITHSCORES')
    if first[1] and tonumber(first[2]) <= tonumber(now) then
      local m, runAt = first[1], first[2]
      local id = unpad(m)
      local k = P .. 'ev:' .. id
      redis.call('HSET', k, 'tok', token)
      redis.call('HINCRBY', k, 'del', 1)
      redis.call('ZADD', P .. 'due:' .. fn, expiresAt, m)
      redis.call('ZADD', P .. 'leased:' .. fn, expiresAt, m)
      refresh(fn)
      redis.call('SET', P .. 'cursor', fn)
      local out = { id, runAt }
      for _, v in ipairs(redis.call('HGETALL', k)) do out[#out + 1] = v end
      return out
    end
  end
end
return false
`;

/** ARGV: P, id, token, expiresAt. Returns 1, or 0 for a stale token. */
export const EXTEND = `${COMMON}
local k = held(ARGV[2], ARGV[3])
if not k then return 0 end
local fn, m = redis.call('HGET', k, 'fn'), pad(ARGV[2])
redis.call('ZADD', P .. 'due:' .. fn, ARGV[4], m)
redis.call('ZADD', P .. 'leased:' .. fn, ARGV[4], m)
refresh(fn)
return 1
`;

/** ARGV: P, id, token. Returns 1, or 0 for a stale token. */
export const COMPLETE = `${COMMON}
local k = held(ARGV[2], ARGV[3])
if not k then return 0 end
local fn = redis.call('HGET', k, 'fn')
redis.call('DEL', k)
unqueue(fn, pad(ARGV[2]))
return 1
`;

/**
 * ARGV: P, id, token, runAt, invocations, functionErrors, throttles[, lastAttempt JSON[, response]].
 * A new record without response bytes clears the old bytes, as the record is replaced whole.
 */
export const RESCHEDULE = `${COMMON}
local k = held(ARGV[2], ARGV[3])
if not k then return 0 end
local fn, m = redis.call('HGET', k, 'fn'), pad(ARGV[2])
redis.call('HDEL', k, 'tok')
redis.call('HSET', k, 'inv', ARGV[5], 'fe', ARGV[6], 'thr', ARGV[7])
if ARGV[8] then
  redis.call('HSET', k, 'la', ARGV[8])
  if ARGV[9] then redis.call('HSET', k, 'lr', ARGV[9]) else redis.call('HDEL', k, 'lr') end
end
redis.call('ZREM', P .. 'leased:' .. fn, m)
redis.call('ZADD', P .. 'due:' .. fn, ARGV[4], m)
refresh(fn)
return 1
`;

/**
 * ARGV: P, id, token, reason, now, destinations JSON ('' for none), counters given ('1'/'0'),
 * invocations, functionErrors, throttles, record given ('1'/'0'), lastAttempt JSON, response
 * given ('1'/'0'), response. Returns 1, or 0 for a stale token.
 */
export const FAIL = `${COMMON}
local id = ARGV[2]
local k = held(id, ARGV[3])
if not k then return 0 end
local fn, m = redis.call('HGET', k, 'fn'), pad(id)
local run = redis.call('ZSCORE', P .. 'due:' .. fn, m)
unqueue(fn, m)
local f = P .. 'failed:' .. id
redis.call('RENAME', k, f)
redis.call('HDEL', f, 'tok')
redis.call('HSET', f, 'run', run, 'reason', ARGV[4], 'fat', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', f, 'dest', ARGV[6]) end
if ARGV[7] == '1' then redis.call('HSET', f, 'inv', ARGV[8], 'fe', ARGV[9], 'thr', ARGV[10]) end
if ARGV[11] == '1' then
  redis.call('HSET', f, 'la', ARGV[12])
  if ARGV[13] == '1' then redis.call('HSET', f, 'lr', ARGV[14]) else redis.call('HDEL', f, 'lr') end
end
redis.call('ZADD', P .. 'failedby:' .. fn, id, m)
return 1
`;

/** ARGV: P, function, after (an id, 0 for the start), limit. Returns { { id, field, value, ... }, ... }. */
export const LIST_FAILED = `${COMMON}
local out = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'failedby:' .. ARGV[2], '(' .. ARGV[3], '+inf', 'LIMIT', 0, ARGV[4])
for _, m in ipairs(ids) do
  local id = unpad(m)
  local row = { id }
  for _, v in ipairs(redis.call('HGETALL', P .. 'failed:' .. id)) do row[#row + 1] = v end
  out[#out + 1] = row
end
return out
`;

/**
 * ARGV: P, id, now. Moves a failed event back as a fresh acceptance (same id and request id,
 * counters and record cleared). Returns nil, or { id, runAt, field, value, ... }.
 */
export const REPLAY = `${COMMON}
local id, now = ARGV[2], ARGV[3]
local f = P .. 'failed:' .. id
local fn = redis.call('HGET', f, 'fn')
if not fn then return false end
local m = pad(id)
local k = P .. 'ev:' .. id
redis.call('RENAME', f, k)
redis.call('HDEL', k, 'run', 'reason', 'fat', 'dest', 'la', 'lr', 'tok')
redis.call('HSET', k, 'acc', now, 'del', 0, 'inv', 0, 'fe', 0, 'thr', 0)
redis.call('ZREM', P .. 'failedby:' .. fn, m)
redis.call('ZADD', P .. 'due:' .. fn, now, m)
redis.call('ZADD', P .. 'acc:' .. fn, now, m)
redis.call('HINCRBY', P .. 'depth', fn, 1)
redis.call('ZADD', P .. 'fns', 'LT', now, fn)
local out = { id, now }
for _, v in ipairs(redis.call('HGETALL', k)) do out[#out + 1] = v end
return out
`;

/**
 * ARGV: P[, function]. Reads in one script so the answer is one consistent moment: with a
 * function, { depth, oldest acceptance }; without, { function, depth, ... }.
 */
export const DEPTH = `${COMMON}
if ARGV[2] then
  local oldest = redis.call('ZRANGE', P .. 'acc:' .. ARGV[2], 0, 0, 'WITHSCORES')
  return { redis.call('HGET', P .. 'depth', ARGV[2]) or '0', oldest[2] or false }
end
return redis.call('HGETALL', P .. 'depth')
`;

/** ARGV: P. The earliest due time of any event (a lease expiry counts), or nil. */
export const NEXT_DUE = `${COMMON}
local first = redis.call('ZRANGE', P .. 'fns', 0, 0, 'WITHSCORES')
return first[2] or false
`;
