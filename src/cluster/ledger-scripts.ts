import { luaScript } from './redis-connection.js';

/**
 * The cluster ledger's Lua: each script is one atomic step on the shared state, and each rule in
 * it is a line-for-line copy of a pure function in `scheduler/admission` (named beside it). The
 * shared case tables and a differential property run the TypeScript and the Lua on the same
 * inputs, so the two cannot drift apart unnoticed.
 *
 * Every script gets the same KEYS, in this order:
 *   1 leases       zset  member `kind|owner|seq|function`, score = expiry (ms since the epoch)
 *   2 inflight     hash  function → live on-demand leases
 *   3 pinflight    hash  function → live provisioned leases
 *   4 reserved     hash  function → reserved concurrency
 *   5 provisioned  hash  function → provisioned concurrency claimed
 *   6 buckets      hash  function → "tokens at" of its scaling-rate bucket
 *   7 nodes        zset  owner → expiry of its last heartbeat
 *   8 clock        hash  last → the latest `now` a script was given; lease → the lease time in ms
 * The counts in 2 and 3 are kept equal to the live members of 1, so an admission reads a few
 * hash fields instead of counting leases.
 *
 * Time is always an argument (the calling node's Clock), never Redis TIME, so tests drive it by
 * hand; nodes must keep their clocks synchronised (NTP) well inside the lease time.
 * Numbers cross into Redis commands as the caller's strings, not as Lua numbers, which Redis would
 * format with only 14 significant digits; bucket tokens are stored with 17, which round-trips a
 * double exactly, so a bucket refilled in Lua holds what the TypeScript bucket would.
 */

const PRELUDE = `
local LEASES, INFLIGHT, PINFLIGHT, RESERVED, PROVISIONED, BUCKETS, NODES, CLOCK = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]

-- HGET answers false for a missing field.
local function num(v)
  if v then return tonumber(v) end
  return 0
end

local function hash(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = tonumber(flat[i + 1]) end
  return t
end

local function decrement(counts, fn)
  if redis.call('HINCRBY', counts, fn, -1) <= 0 then redis.call('HDEL', counts, fn) end
end

-- While Redis could not be reached, no node could renew a lease. Live nodes touch the clock at
-- least every third of a lease (their heartbeats), so a silence of more than half a lease means
-- an outage (or a cluster with no node up): every lease's expiry moves on by the silence, and the
-- holders of leases still running renew them at their next heartbeat instead of finding them
-- expired, and their slots taken by others, right after Redis is back. A lease whose holder is
-- gone expires one silence later than it would have.
local function bridgeSilence(now, leaseArg)
  local n = tonumber(now)
  local stored = redis.call('HMGET', CLOCK, 'last', 'lease')
  local last = tonumber(stored[1] or '0')
  local lease = leaseArg or tonumber(stored[2] or '0')
  if last > 0 and lease > 0 and n - last > lease / 2 then
    local shift = n - last
    local all = redis.call('ZRANGE', LEASES, 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do redis.call('ZADD', LEASES, string.format('%.17g', tonumber(all[i + 1]) + shift), all[i]) end
  end
  -- One write: the latest now, with the lease time when the caller knows it (acquire, heartbeat).
  if n > last then
    if leaseArg then redis.call('HSET', CLOCK, 'last', now, 'lease', tostring(leaseArg))
    else redis.call('HSET', CLOCK, 'last', now) end
  end
end

-- A lease is live while its expiry is after now. Every script that counts drops the others first,
-- so the slots of a node that stopped renewing come back within the lease time.
-- leaseArg: the lease time in ms when the script knows it (nil for readers).
local function expire(now, leaseArg)
  bridgeSilence(now, leaseArg)
  local dead = redis.call('ZRANGEBYSCORE', LEASES, '-inf', now)
  for _, m in ipairs(dead) do
    local kind, fn = string.match(m, '^(%a)|[^|]*|[^|]*|(.*)$')
    decrement(kind == 'p' and PINFLIGHT or INFLIGHT, fn)
  end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now) end
end

-- decideConcurrency: nil when one more on-demand invocation of fn may run.
local function concurrencyRefusal(fn, L)
  local reservation = redis.call('HGET', RESERVED, fn)
  local current = num(redis.call('HGET', INFLIGHT, fn)) + num(redis.call('HGET', PROVISIONED, fn))
  if reservation then
    if current < tonumber(reservation) then return nil end
    return 'reserved'
  end
  local reserved = hash(RESERVED)
  local sum = 0
  for _, r in pairs(reserved) do sum = sum + r end
  -- unreservedInFlight + unreservedProvisioned < unreservedCapacity (L − Σr)
  local used = 0
  for f, n in pairs(hash(INFLIGHT)) do if not reserved[f] then used = used + n end end
  for f, n in pairs(hash(PROVISIONED)) do if not reserved[f] then used = used + n end end
  if used < L - sum then return nil end
  return 'account'
end

-- decideScaling with refill and secondsUntilToken: 0 when a token was taken, else the seconds
-- until one will be there. The bucket is stored either way, refilled to now, as decideScaling does.
local function takeToken(fn, nowArg, size, window)
  local now = tonumber(nowArg)
  local tokens = size
  local raw = redis.call('HGET', BUCKETS, fn)
  if raw then
    local t, at = string.match(raw, '^(%S+) (%S+)$')
    local elapsed = math.max(0, now - tonumber(at))
    tokens = math.min(size, tonumber(t) + (elapsed * size) / window)
  end
  if tokens >= 1 then
    redis.call('HSET', BUCKETS, fn, string.format('%.17g', tokens - 1) .. ' ' .. nowArg)
    return 0
  end
  redis.call('HSET', BUCKETS, fn, string.format('%.17g', tokens) .. ' ' .. nowArg)
  return math.max(1, math.ceil(((1 - tokens) * window) / size / 1000))
end
`;

function script(name: string, body: string) {
  return luaScript(name, PRELUDE + body);
}

/**
 * ARGV: L, size, windowMs, then six per admission: fn, kind (o|p), token (1|0), now, expiry,
 * member → {outcome, retryAfterSeconds} per admission, flat. The admissions a node asks for in
 * one turn of its event loop are decided in one call, in order, each exactly as alone.
 */
export const ACQUIRE = script(
  'acquire',
  `
local L, size, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local earliest = ARGV[7]
for i = 4, #ARGV, 6 do
  if tonumber(ARGV[i + 3]) < tonumber(earliest) then earliest = ARGV[i + 3] end
end
expire(earliest, tonumber(ARGV[8]) - tonumber(ARGV[7]))
local out = {}
for i = 4, #ARGV, 6 do
  local fn, kind, now = ARGV[i], ARGV[i + 1], ARGV[i + 3]
  local outcome, wait = 'granted', 0
  if kind == 'o' then
    local refusal = concurrencyRefusal(fn, L)
    if refusal then outcome = refusal end
  end
  if outcome == 'granted' and ARGV[i + 2] == '1' then
    wait = takeToken(fn, now, size, window)
    if wait > 0 then outcome = 'rate' end
  end
  if outcome == 'granted' then
    redis.call('ZADD', LEASES, ARGV[i + 4], ARGV[i + 5])
    redis.call('HINCRBY', kind == 'p' and PINFLIGHT or INFLIGHT, fn, 1)
  end
  out[#out + 1] = outcome
  out[#out + 1] = wait
end
return out
`,
);

/** ARGV: fn, now, size, windowMs → 0 (taken) or seconds until a token. */
export const TAKE_TOKEN = script('take-token', `return takeToken(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))`);

/**
 * ARGV: three per release: member, kind, fn → how many leases this call removed (each count drops
 * once per lease, however often it is released). A node's releases of one turn go in one call.
 */
export const RELEASE = script(
  'release',
  `
local removed = 0
for i = 1, #ARGV, 3 do
  if redis.call('ZREM', LEASES, ARGV[i]) == 1 then
    decrement(ARGV[i + 1] == 'p' and PINFLIGHT or INFLIGHT, ARGV[i + 2])
    removed = removed + 1
  end
end
return removed
`,
);

/** ARGV: now, expiry, owner, member… → the members that had expired (lost) rather than renewed. */
export const HEARTBEAT = script(
  'heartbeat',
  `
expire(ARGV[1], tonumber(ARGV[2]) - tonumber(ARGV[1]))
local lost = {}
for i = 4, #ARGV do
  if redis.call('ZSCORE', LEASES, ARGV[i]) then
    redis.call('ZADD', LEASES, 'XX', ARGV[2], ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
redis.call('ZADD', NODES, ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', NODES, '-inf', ARGV[1])
return lost
`,
);

/** reservationProblem, then the write. ARGV: fn, value, L, U → nil (set) or AWS's message. */
export const SET_RESERVATION = script(
  'set-reservation',
  `
local fn, value, L, U = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local provisioned = num(redis.call('HGET', PROVISIONED, fn))
if value < provisioned then
  return ' ReservedConcurrentExecutions  ' .. ARGV[2] .. " should not be lower than function's total provisioned concurrency [" .. provisioned .. '].'
end
local others = 0
for f, r in pairs(hash(RESERVED)) do if f ~= fn then others = others + r end end
if L - others - value < U then
  return "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [" .. ARGV[4] .. '].'
end
redis.call('HSET', RESERVED, fn, ARGV[2])
return nil
`,
);

/** provisionedProblem, then the write. ARGV: fn, total, L, U → nil (claimed) or AWS's message. */
export const SET_PROVISIONED = script(
  'set-provisioned',
  `
local fn, total, L, U = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local reservation = redis.call('HGET', RESERVED, fn)
if reservation then
  if total > tonumber(reservation) then
    return 'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function'
  end
else
  local reserved = hash(RESERVED)
  local sum, others = 0, 0
  for _, r in pairs(reserved) do sum = sum + r end
  for f, p in pairs(hash(PROVISIONED)) do if not reserved[f] and f ~= fn then others = others + p end end
  local unreserved = L - sum - others
  if total > unreserved then
    return "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [" .. math.max(0, unreserved) .. '].'
  end
  if unreserved - total < U then
    return "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [" .. ARGV[4] .. '].'
  end
end
if total > 0 then redis.call('HSET', PROVISIONED, fn, ARGV[2]) else redis.call('HDEL', PROVISIONED, fn) end
return nil
`,
);

/** ARGV: fn. Forgets the reservation, the provisioned claim and the bucket in one step. */
export const FORGET = script(
  'forget',
  `
redis.call('HDEL', RESERVED, ARGV[1])
redis.call('HDEL', PROVISIONED, ARGV[1])
redis.call('HDEL', BUCKETS, ARGV[1])
return 1
`,
);

/** ARGV: now → {reserved, inflight, provisioned, pinflight}, each a flat field/value list. */
export const SNAPSHOT = script(
  'snapshot',
  `
expire(ARGV[1])
return {redis.call('HGETALL', RESERVED), redis.call('HGETALL', INFLIGHT), redis.call('HGETALL', PROVISIONED), redis.call('HGETALL', PINFLIGHT)}
`,
);

/** ARGV: fn, now → live leases of fn, on-demand and provisioned. */
export const CONCURRENCY = script(
  'concurrency',
  `
expire(ARGV[2])
return num(redis.call('HGET', INFLIGHT, ARGV[1])) + num(redis.call('HGET', PINFLIGHT, ARGV[1]))
`,
);

/** ARGV: now → the live leases as a flat member/expiry list. */
export const LEASES = script(
  'leases',
  `
expire(ARGV[1])
return redis.call('ZRANGE', LEASES, 0, -1, 'WITHSCORES')
`,
);
