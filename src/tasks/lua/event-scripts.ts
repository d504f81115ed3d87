// The events module's atomic Redis steps, each one Lua script named for what it does.

/**
 * Fold task.completed costs appended since the last fold into the queue total (exactly once: the
 * cursor and the total move together). KEYS: queueCost, events. ARGV: maxEntries.
 * Returns {entriesRead, totalAsString}.
 */
export const FOLD_QUEUE_COST = `
local cursor = redis.call('HGET', KEYS[1], 'cursor') or '0-0'
local entries = redis.call('XRANGE', KEYS[2], '(' .. cursor, '+', 'COUNT', ARGV[1])
local delta = 0
for _, e in ipairs(entries) do
  local f = e[2]
  local t, d
  for i = 1, #f, 2 do
    if f[i] == 'type' then t = f[i + 1] elseif f[i] == 'data' then d = f[i + 1] end
  end
  if t == 'task.completed' and d then
    local ok, v = pcall(cjson.decode, d)
    if ok and type(v) == 'table' and type(v.cost) == 'number' then delta = delta + v.cost end
  end
end
if #entries > 0 then
  redis.call('HSET', KEYS[1], 'cursor', entries[#entries][1])
  if delta ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'total', delta) end
end
return {#entries, redis.call('HGET', KEYS[1], 'total') or '0'}`;

/**
 * Take one event off the dispatcher's pending list and schedule its deliveries, in one step: only the
 * call that acknowledges the entry schedules, so a re-read entry never schedules twice.
 * KEYS: events, due, deliveries. ARGV: group, streamId, now, then webhookId, deliveryJson pairs.
 * Returns 1 when scheduled, 0 when the entry was no longer pending.
 */
export const SCHEDULE_DELIVERIES = `
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
for i = 4, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
  end
end
return 1`;

/**
 * Lease the due deliveries: push each one's score to the lease end, so another dispatcher does not
 * attempt it too; a dispatcher that dies mid-attempt leaves it due again when the lease ends.
 * KEYS: due, deliveries. ARGV: now, leaseUntil, limit. Returns the delivery JSONs.
 */
export const LEASE_DUE_DELIVERIES = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[2], id)
  if json then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = json
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`;

/**
 * Schedule the next attempt of a delivery that still exists (one that another dispatcher completed
 * after a lease ran out is not brought back). KEYS: due, deliveries. ARGV: webhookId, json, at.
 */
export const RESCHEDULE_DELIVERY = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`;
