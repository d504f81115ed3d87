// Atomic operations on the delivery statistics every process shares: the latency sketch, the
// webhook-health counters (and their switch, emitting one event per transition), the poll budget.
import { APPEND_EVENT } from './append-event.js';

/** Multiply every non-bookkeeping field of hash `key` by factor^periods since its `_at` (lazy decay). */
const DECAY = `
local function decay(key, now, every, factor)
  local at = tonumber(redis.call('HGET', key, '_at'))
  if not at then
    redis.call('HSET', key, '_at', now)
    return
  end
  local periods = math.floor((now - at) / every)
  if periods < 1 then return end
  local f = factor ^ math.min(periods, 200)
  local h = redis.call('HGETALL', key)
  for i = 1, #h, 2 do
    local k = h[i]
    if string.sub(k, 1, 1) ~= '_' then
      local v = math.floor(tonumber(h[i + 1]) * f)
      if v > 0 then redis.call('HSET', key, k, v) else redis.call('HDEL', key, k) end
    end
  end
  redis.call('HSET', key, '_at', at + periods * every)
end`;

/**
 * Webhook items arrived. Feeds each new item's submit→arrival latency into the task's latency class
 * sketch; counts them as delivered by webhook; while degraded, counts every webhook seen (new or a
 * duplicate of a polled result) and switches back after enough, appending relay.webhooks_recovered.
 * KEYS: task, health, events.
 * ARGV: now, new, seen, keyBase, baseMs, logRatio, buckets, weight, decayEvery, decayFactor,
 *       recoverAfter, maxLen, sketchTtlSec.
 * Returns 2 when it switched back to webhook-first, else 1.
 */
export const NOTE_WEBHOOK = `${APPEND_EVENT}
${DECAY}
local now = tonumber(ARGV[1])
local new = tonumber(ARGV[2])
local weight = tonumber(ARGV[8])
local every, factor = tonumber(ARGV[9]), tonumber(ARGV[10])
if new > 0 then
  local t = redis.call('HMGET', KEYS[1], 'submittedAt', 'latencyClass')
  if t[1] and t[2] then
    local lat = now - tonumber(t[1])
    local b = 0
    if lat > tonumber(ARGV[5]) then b = math.floor(math.log(lat / tonumber(ARGV[5])) / tonumber(ARGV[6])) end
    if b > tonumber(ARGV[7]) - 1 then b = tonumber(ARGV[7]) - 1 end
    local sketch = ARGV[4] .. 'latency:' .. t[2]
    decay(sketch, now, every, factor)
    redis.call('HINCRBY', sketch, 'b' .. b, weight * new)
    redis.call('EXPIRE', sketch, ARGV[13])
  end
end
decay(KEYS[2], now, every, factor)
if new > 0 then redis.call('HINCRBY', KEYS[2], 'webhook', weight * new) end
if redis.call('HGET', KEYS[2], '_state') == 'degraded' then
  local seen = redis.call('HINCRBY', KEYS[2], '_seen', tonumber(ARGV[3]))
  if seen >= tonumber(ARGV[11]) then
    redis.call('HDEL', KEYS[2], '_state', '_seen', 'webhook', 'polled')
    appendEvent(KEYS[3], ARGV[12], 'relay.webhooks_recovered', '', '', now, cjson.encode({ webhooksSeen = seen }))
    return 2
  end
end
return 1`;

/**
 * Results recovered by polling (no webhook had delivered them). Past the loss threshold, with enough
 * slots counted, switches to poll-first and appends relay.webhooks_degraded (once per transition).
 * KEYS: health, events. ARGV: now, count, weight, decayEvery, decayFactor, threshold, minSlots, maxLen.
 * Returns 2 when it switched to poll-first, else 1.
 */
export const NOTE_POLLED = `${APPEND_EVENT}
${DECAY}
local now = tonumber(ARGV[1])
local weight = tonumber(ARGV[3])
decay(KEYS[1], now, tonumber(ARGV[4]), tonumber(ARGV[5]))
local polled = redis.call('HINCRBY', KEYS[1], 'polled', weight * tonumber(ARGV[2]))
if redis.call('HGET', KEYS[1], '_state') == 'degraded' then return 1 end
local total = polled + (tonumber(redis.call('HGET', KEYS[1], 'webhook')) or 0)
if total >= weight * tonumber(ARGV[7]) and polled / total >= tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], '_state', 'degraded', '_seen', 0)
  appendEvent(KEYS[2], ARGV[8], 'relay.webhooks_degraded', '', '', now, cjson.encode({ lossRatio = polled / total }))
  return 2
end
return 1`;

/**
 * Token bucket shared by every worker: one token per getResponse call, refilled at ARGV[2] per second
 * up to ARGV[3]. KEYS: bucket. ARGV: now, ratePerSec, burst.
 * Returns 0 when a token was taken, else the ms until one will be available.
 */
export const TAKE_POLL_TOKEN = `
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(h[1]) or burst
local at = tonumber(h[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', math.max(now, at))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait`;
