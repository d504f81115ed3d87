// The fair-share scheduler (issue 14) as one Lua script: admission of tasks to the global in-flight cap
// by deficit round robin across tenants. Every key shares the queue's `{prefix}` hash tag (see keys.ts),
// so the script is atomic on one node and on a Redis Cluster. Layout in docs/scaling.md, "Fair share".
import { APPEND_EVENT } from './append-event.js';

/**
 * Keys (all under `<base>fs:`):
 *   KEYS[1] admitted  hash taskUUID → tenant: the tasks holding a slot (HLEN = global in flight)
 *   KEYS[2] waiting   hash taskUUID → lane|tenant: the tasks registered and not yet admitted
 *   KEYS[3] conf      hash weight:<t>, max:<t>: per-tenant weights and caps (tenant set)
 *   KEYS[4] state     hash inflight:<t>, ended:<t>, throttled:<t>, last:<t> (last admission),
 *                     deficit:<lane>:<t>, ring:<lane>:<t>
 *   KEYS[5] ring of tenants with waiting interactive tasks (list; its head is served next)
 *   KEYS[6] ring of tenants with waiting bulk tasks
 *   KEYS[7] events stream (tenant.throttled)
 *   KEYS[8] admissions in the current 10 s bucket, hash tenant → count (status --tenants share)
 * Computed keys, same hash tag: `<base>fs:wait:<lane>:<tenant>` (list, oldest first) and the task
 * record `<base>task:<uuid>` (read only, to skip tasks that ended while waiting).
 * ARGV: op, taskUUID, tenant, lane, cap, now, keyBase, streamMaxLen, bucketTtlSec, jobKeyPrefix,
 *       idleForgetMs, then (op 'sweep') the candidate taskUUIDs.
 * op 'admit':   register the task (once) and schedule. Returns {admittedSelf(0|1), {other admitted}}.
 * op 'release': free the task's slot (or drop it from waiting) and schedule. Returns {released(0|1), {…}}.
 * op 'sweep':   release candidates whose task ended or whose job and record are gone, forget the
 *               counters of tenants idle for idleForgetMs (nothing held, nothing waiting), then schedule.
 *               Returns {releasedCount, {admitted}}.
 * op 'schedule': only schedule. Returns {0, {admitted}}.
 */
export const ADMISSION = `${APPEND_EVENT}

local terminal = { completed = true, failed = true, cancelled = true, partial = true }
local ADMITTED, WAITING, CONF, STATE, EVENTS, BUCKET = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7], KEYS[8]
local RINGS = { interactive = KEYS[5], bulk = KEYS[6] }
local op, uuid, tenant, lane = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap, now, base = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local admittedNow = {}

local function waitKey(t, l) return base .. 'fs:wait:' .. l .. ':' .. t end
local function inflight(t) return tonumber(redis.call('HGET', STATE, 'inflight:' .. t)) or 0 end

local function enqueueWaiting(u, t, l)
  redis.call('RPUSH', waitKey(t, l), u)
  redis.call('HSET', WAITING, u, l .. '|' .. t)
  if redis.call('HSETNX', STATE, 'ring:' .. l .. ':' .. t, 1) == 1 then redis.call('RPUSH', RINGS[l], t) end
end

local function leaveRing(ring, l, t)
  redis.call('LPOP', ring)
  redis.call('HDEL', STATE, 'ring:' .. l .. ':' .. t, 'deficit:' .. l .. ':' .. t)
end

-- The tenant's cap binds while it has work waiting: one tenant.throttled event per throttled period
-- (the flag clears when the tenant is admitted again).
local function throttle(t, max, l)
  if redis.call('HSETNX', STATE, 'throttled:' .. t, now) == 1 then
    appendEvent(EVENTS, ARGV[8], 'tenant.throttled', '', '', now, cjson.encode({ tenant = t, maxInFlight = max, inFlight = inflight(t),
        waiting = redis.call('LLEN', waitKey(t, l)) }))
  end
end

-- The oldest waiting task of t in lane l whose task has not ended meanwhile (a cancelled task is skipped).
local function popLive(t, l)
  local wk = waitKey(t, l)
  while true do
    local u = redis.call('LPOP', wk)
    if not u then return nil end
    redis.call('HDEL', WAITING, u)
    local st = redis.call('HGET', base .. 'task:' .. u, 'state')
    if not (st and terminal[st]) then return u end
  end
end

-- One deficit-round-robin step in lane l: the ring's head tenant gets its weight added to its deficit
-- when that is below one slot, spends one slot per admission, and goes to the tail when it is spent.
-- A tenant at its cap is passed over (deficit reset: a capped tenant saves no credit). Returns true
-- when it admitted a task; false when no tenant of this lane can be served now.
local function admitOne(l)
  local ring = RINGS[l]
  local visits = redis.call('LLEN', ring)
  while visits > 0 do
    visits = visits - 1
    local t = redis.call('LINDEX', ring, 0)
    if redis.call('LLEN', waitKey(t, l)) == 0 then
      leaveRing(ring, l, t)
    else
      local c = redis.call('HMGET', CONF, 'weight:' .. t, 'max:' .. t)
      local weight, max = tonumber(c[1]) or 1, tonumber(c[2]) or 0
      if max > 0 and inflight(t) >= max then
        throttle(t, max, l)
        redis.call('HDEL', STATE, 'deficit:' .. l .. ':' .. t)
        redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
      else
        local d = tonumber(redis.call('HGET', STATE, 'deficit:' .. l .. ':' .. t)) or 0
        if d < 1 then d = d + weight end
        local u = popLive(t, l)
        if not u then
          leaveRing(ring, l, t)
        else
          d = d - 1
          redis.call('HSET', ADMITTED, u, t)
          redis.call('HINCRBY', STATE, 'inflight:' .. t, 1)
          redis.call('HDEL', STATE, 'throttled:' .. t)
          redis.call('HSET', STATE, 'last:' .. t, now)
          redis.call('HINCRBY', BUCKET, t, 1)
          redis.call('EXPIRE', BUCKET, ARGV[9])
          admittedNow[#admittedNow + 1] = u
          if redis.call('LLEN', waitKey(t, l)) == 0 then
            leaveRing(ring, l, t)
          else
            if d < 1 then redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT') end
            redis.call('HSET', STATE, 'deficit:' .. l .. ':' .. t, d)
          end
          return true
        end
      end
    end
  end
  return false
end

-- Interactive ahead of bulk: a bulk task is admitted only when no interactive tenant can be served.
local function schedule()
  while redis.call('HLEN', ADMITTED) < cap do
    if not admitOne('interactive') and not admitOne('bulk') then return end
  end
end

local function release(u)
  local t = redis.call('HGET', ADMITTED, u)
  if t then
    redis.call('HDEL', ADMITTED, u)
    if redis.call('HINCRBY', STATE, 'inflight:' .. t, -1) <= 0 then redis.call('HDEL', STATE, 'inflight:' .. t) end
    redis.call('HINCRBY', STATE, 'ended:' .. t, 1)
    return 1
  end
  local w = redis.call('HGET', WAITING, u)
  if w then
    local sep = string.find(w, '|', 1, true)
    redis.call('LREM', waitKey(string.sub(w, sep + 1), string.sub(w, 1, sep - 1)), 1, u)
    redis.call('HDEL', WAITING, u)
  end
  return 0
end

local head = 0
if op == 'admit' then
  if redis.call('HEXISTS', ADMITTED, uuid) == 0 and redis.call('HEXISTS', WAITING, uuid) == 0 then
    enqueueWaiting(uuid, tenant, lane)
  end
  schedule()
  head = redis.call('HEXISTS', ADMITTED, uuid)
elseif op == 'release' then
  head = release(uuid)
  schedule()
elseif op == 'sweep' then
  -- Tenants default to batch ids: forget the counters of idle ones so the state hash stays bounded.
  local state = redis.call('HGETALL', STATE)
  for i = 1, #state, 2 do
    local t = string.match(state[i], '^last:(.*)$')
    if t and tonumber(now) - tonumber(state[i + 1]) > tonumber(ARGV[11])
      and redis.call('HEXISTS', STATE, 'inflight:' .. t) == 0
      and redis.call('HEXISTS', STATE, 'ring:interactive:' .. t) == 0
      and redis.call('HEXISTS', STATE, 'ring:bulk:' .. t) == 0 then
      redis.call('HDEL', STATE, 'last:' .. t, 'ended:' .. t, 'throttled:' .. t)
    end
  end
  for i = 12, #ARGV do
    local u = ARGV[i]
    local st = redis.call('HGET', base .. 'task:' .. u, 'state')
    local gone = not st and redis.call('EXISTS', ARGV[10] .. u) == 0
    if (st and terminal[st]) or gone then head = head + release(u) end
  end
  schedule()
else
  schedule()
end
local others = {}
for _, u in ipairs(admittedNow) do
  if u ~= uuid then others[#others + 1] = u end
end
return { head, others }`;
