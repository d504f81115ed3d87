// The atomic per-slot operations: retry the missing slots under a new provider taskUUID, count a
// failed fetch of one slot, and reopen a partial task for an operator retry. See tasks/slot-store.ts.

/**
 * Start a slot retry: record the new provider task (webhook mode: one task for the missing count;
 * upload mode: one subtask per missing slot) before it is submitted, so its webhooks find the task.
 * Idempotent per slotAttempt number: a crash before the submit finds `retrySubmit` set and submits again.
 * KEYS: task, slotErrors. ARGV: providerTaskUUID, slotAttempt, auto(0|1), missingCount,
 * subtasksCsv ('' in webhook mode), keyBase, taskUUID, slotSubtasksJson [[slot, uuid]…], itemsCount,
 * retriedSlotsCsv.
 * Returns 1 when started, 0 when this attempt was started before or the task is not in flight.
 */
export const START_SLOT_RETRY = `
local h = redis.call('HMGET', KEYS[1], 'state', 'slotAttempt', 'errorSignals')
if h[1] ~= 'submitted' then return 0 end
if (tonumber(h[2]) or 0) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'slotAttempt', ARGV[2], 'providerTaskUUID', ARGV[1], 'attemptResults', ARGV[4],
  'attemptBase', ARGV[9], 'attemptErrors', 0, 'retrySubmit', 1, 'needsSlotRetry', 0, 'errorsSeen', h[3] or 0, 'retrySlots', ARGV[10])
redis.call('HDEL', KEYS[1], 'providerError')
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'autoRetries', 1) end
if ARGV[5] == '' then
  redis.call('HSET', ARGV[6] .. 'task:' .. ARGV[1], 'parent', ARGV[7], 'slot', -1)
else
  redis.call('HSET', KEYS[1], 'subtasks', ARGV[5])
  for _, pair in ipairs(cjson.decode(ARGV[8])) do
    redis.call('HSET', ARGV[6] .. 'task:' .. pair[2], 'parent', ARGV[7], 'slot', pair[1])
    redis.call('HDEL', KEYS[2], pair[1])
  end
end
return 1`;

/**
 * One more failed fetch of a slot's result. Below the limit, note when to try again; at the limit,
 * the slot fails (first failure wins). KEYS: task, failures.
 * ARGV: slot, maxAttempts, failureJson, retryAtsCsv (when to try again after the 1st, 2nd… failure).
 * Returns the slot's failed fetches so far (0 when the task already ended).
 */
export const NOTE_FETCH_FAILURE = `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'submitted' then return 0 end
local tries = redis.call('HINCRBY', KEYS[1], 'fetchTries:' .. ARGV[1], 1)
if tries >= tonumber(ARGV[2]) then
  redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3])
else
  local i = 0
  for at in string.gmatch(ARGV[4], '[^,]+') do
    i = i + 1
    if i == tries then redis.call('HSET', KEYS[1], 'fetchAt:' .. ARGV[1], at) end
  end
end
return tries`;

/**
 * Reopen a partial task for an operator retry of its failed slots: forget the failures (fetch-failed
 * slots are fetched again; never-generated ones are generated again by the worker, see needsSlotRetry),
 * uncount it in its batch, and put it back in flight. Stored slots stay stored.
 * KEYS: task, batch, inflight, failures, items, stored, slotErrors. ARGV: nextPollAt, deadlineAt, taskUUID.
 * Returns 1 when reopened, 0 when the task is not partial.
 */
export const REOPEN_PARTIAL = `
local h = redis.call('HMGET', KEYS[1], 'state', 'batchId', 'expected')
if h[1] ~= 'partial' then return 0 end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[5])
redis.call('PERSIST', KEYS[6])
redis.call('DEL', KEYS[4], KEYS[7])
for slot = 0, (tonumber(h[3]) or 1) - 1 do redis.call('HDEL', KEYS[1], 'fetchTries:' .. slot, 'fetchAt:' .. slot) end
redis.call('HDEL', KEYS[1], 'finishedAt', 'providerError')
redis.call('HSET', KEYS[1], 'state', 'submitted', 'reason', '', 'cost', 0, 'autoRetries', 0, 'needsSlotRetry', 1,
  'deadlineAt', ARGV[2], 'nextPollAt', ARGV[1], 'dueAt', ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
if h[2] and h[2] ~= '' then
  redis.call('HINCRBY', KEYS[2], 'partial', -1)
  redis.call('HINCRBY', KEYS[2], 'settled', -1)
  redis.call('HDEL', KEYS[2], 'finishedAt')
end
return 1`;
