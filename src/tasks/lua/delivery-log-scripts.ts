// The delivery log's atomic step: one attempt recorded, the endpoint's health updated and, on the
// failure that crosses the threshold, the endpoint disabled with an endpoint.disabled event — together.
import { APPEND_EVENT } from './append-event.js';

/**
 * KEYS: attempts stream, endpoint hash, endpoints set, events stream.
 * ARGV: url, ok (1|0), status ('' when none), latencyMs, webhookId, eventId, type, attempt, error,
 *       threshold, now, attemptsMaxLen, ttlSec, eventsMaxLen.
 * Returns 0 delivered, 1 failed, 2 failed and disabled now.
 */
export const RECORD_ATTEMPT = `${APPEND_EVENT}

redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[12], '*', 'webhookId', ARGV[5], 'eventId', ARGV[6],
  'type', ARGV[7], 'attempt', ARGV[8], 'ok', ARGV[2], 'status', ARGV[3], 'latencyMs', ARGV[4],
  'error', ARGV[9], 'at', ARGV[11])
redis.call('EXPIRE', KEYS[1], ARGV[13])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], 'url', ARGV[1], 'lastAttemptAt', ARGV[11], 'lastStatus', ARGV[3], 'lastError', ARGV[9])
redis.call('EXPIRE', KEYS[2], ARGV[13])
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[2], 'consecutiveFailures', 0)
  redis.call('HINCRBY', KEYS[2], 'delivered', 1)
  return 0
end
redis.call('HINCRBY', KEYS[2], 'failed', 1)
local n = redis.call('HINCRBY', KEYS[2], 'consecutiveFailures', 1)
if n >= tonumber(ARGV[10]) and redis.call('HSETNX', KEYS[2], 'disabledAt', ARGV[11]) == 1 then
  appendEvent(KEYS[4], ARGV[14], 'endpoint.disabled', '', '', ARGV[11], cjson.encode({url = ARGV[1], consecutiveFailures = n}))
  return 2
end
return 1`;
