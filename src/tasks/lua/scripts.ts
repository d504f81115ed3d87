// The atomic operations on a task record, each one Lua script named for what it does.
// Keys are passed in KEYS; the only computed keys (upload-mode aliases) share the same hash tag.
import { APPEND_EVENT } from './append-event.js';

/** Terminal states, as a Lua set literal. */
export const TERMINAL = `local terminal = { completed = true, partial = true, failed = true, cancelled = true }`;

/**
 * Resolve KEYS[1] (the record of the provider UUID in ARGV[4]) to the task it belongs to, and whether
 * that provider UUID is the task's current attempt. Sets taskKey, itemsKey, fixedSlot, state, current.
 */
const RESOLVE_ATTEMPT = `
local taskKey, itemsKey = KEYS[1], KEYS[2]
local fixedSlot = -1
local parent = redis.call('HGET', taskKey, 'parent')
if parent then
  fixedSlot = tonumber(redis.call('HGET', taskKey, 'slot'))
  taskKey = ARGV[3] .. 'task:' .. parent
  itemsKey = ARGV[3] .. 'items:' .. parent
end
local state = redis.call('HGET', taskKey, 'state')
local current = true
if state then
  local cur = redis.call('HMGET', taskKey, 'providerTaskUUID', 'subtasks')
  if fixedSlot >= 0 then
    current = cur[2] ~= false and string.find(cur[2], ARGV[4], 1, true) ~= nil
  elseif cur[1] then
    current = cur[1] == ARGV[4]
  end
end`;

/**
 * Create the record before the first submit (no-op when it exists).
 * KEYS: task. ARGV: JSON array of fields and values ["k1","v1",...].
 * Returns 1 when created, 0 when it already existed.
 */
export const CREATE_TASK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[1])))
return 1`;

/**
 * Mark the provider's acceptance (idempotent); the result deadline starts now.
 * KEYS: task, batch, inflight, items. ARGV: now, nextPollAt, deadlineAt, taskUUID.
 * Returns {code, received, errorSignals}: code 1 on the transition, 0 otherwise; received and
 * errorSignals tell whether a result or error was recorded before (a webhook that beat this call).
 */
export const MARK_SUBMITTED = `
if redis.call('HGET', KEYS[1], 'state') ~= 'submitting' then return {0, 0, 0} end
redis.call('HSET', KEYS[1], 'state', 'submitted', 'submittedAt', ARGV[1], 'nextPollAt', ARGV[2], 'dueAt', ARGV[2],
  'deadlineAt', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
local h = redis.call('HMGET', KEYS[1], 'batchId', 'errorSignals')
if h[1] and h[1] ~= '' then redis.call('HINCRBY', KEYS[2], 'submitted', 1) end
return {1, redis.call('HLEN', KEYS[4]), tonumber(h[2]) or 0}`;

/**
 * Record one result item, deduplicated on imageUUID. An alias record (field 'parent': an upload-mode
 * subtask, or a retry attempt's provider UUID) redirects to its parent's keys (and fixed slot).
 * Items for a provider UUID that is not the task's current attempt are late. With `via` set, a new
 * item's arrival is logged too (arrival-log.ts: the task's arrivals hash and the minute's counter),
 * and the reply says whether the task's job is parked (in the queue's delayed set), i.e. needs a wake.
 * KEYS: task, items, delayed. ARGV: imageUUID, "receivedAt|itemJson", keyBase, providerTaskUUID,
 * via ('' = no log), now, retentionSec, minuteStart, rollupTtlSec.
 * Returns {code, jobId, slot, parked(0|1)}: 1 new, 0 duplicate, -1 unknown task, -2 late (task ended),
 * -3 extra.
 */
export const RECORD_ITEM = `
${TERMINAL}
${RESOLVE_ATTEMPT}
if not state then return {-1, '', -1, 0} end
local jobId = redis.call('HGET', taskKey, 'jobId')
if terminal[state] or not current then return {-2, jobId, -1, 0} end
local existing = redis.call('HGET', itemsKey, ARGV[1])
if existing then return {0, jobId, tonumber(string.match(existing, '^(%d+)|')), 0} end
local slot = fixedSlot
if slot < 0 then
  local expected = tonumber(redis.call('HGET', taskKey, 'expected'))
  if redis.call('HLEN', itemsKey) >= expected then return {-3, jobId, -1, 0} end
  slot = redis.call('HINCRBY', taskKey, 'nextSlot', 1) - 1
end
redis.call('HSET', itemsKey, ARGV[1], slot .. '|' .. ARGV[2])
if ARGV[5] == nil or ARGV[5] == '' then return {1, jobId, slot, 0} end
local arrivals = ARGV[3] .. 'arrivals:' .. jobId
redis.call('HSET', arrivals, slot, ARGV[5] .. '|' .. ARGV[6])
redis.call('EXPIRE', arrivals, ARGV[7])
local rollup = ARGV[3] .. 'rollup:' .. ARGV[8]
redis.call('HINCRBY', rollup, ARGV[5], 1)
redis.call('EXPIRE', rollup, ARGV[9])
local parked = 0
if redis.call('ZSCORE', KEYS[3], jobId) then parked = 1 end
return {1, jobId, slot, parked}`;

/**
 * Record a failed item of the current attempt; ignored when it is for an earlier attempt. The first
 * error's code and message are kept as the attempt's providerError; every call counts one error signal
 * (the worker then asks getResponse how many items failed: error bodies carry no item id, so they
 * cannot be deduplicated). An upload-mode subtask's error is also kept for its slot.
 * KEYS: task, items. ARGV: errorJson, '', keyBase, providerTaskUUID.
 * Returns {code, jobId}: 1 recorded, -1 unknown, -2 late.
 */
export const RECORD_ERROR = `
${TERMINAL}
${RESOLVE_ATTEMPT}
if not state then return {-1, ''} end
local jobId = redis.call('HGET', taskKey, 'jobId')
if terminal[state] or not current then return {-2, jobId} end
redis.call('HSETNX', taskKey, 'providerError', ARGV[1])
redis.call('HINCRBY', taskKey, 'errorSignals', 1)
if fixedSlot >= 0 then redis.call('HSETNX', ARGV[3] .. 'slot-errors:' .. parent, fixedSlot, ARGV[1]) end
return {1, jobId}`;

/**
 * Mark one output stored (first one wins). KEYS: task, stored. ARGV: slot, outputJson.
 * Returns {storedCount, expected}; storedCount -2 when the task already ended.
 */
export const MARK_STORED = `
${TERMINAL}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or terminal[state] then return {-2, 0} end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
return {redis.call('HLEN', KEYS[2]), tonumber(redis.call('HGET', KEYS[1], 'expected'))}`;

/** FINISH_TASK's steps (after the TERMINAL set): also run by STORE_AND_FINISH. */
const FINISH_BODY = `
local state = redis.call('HGET', KEYS[1], 'state')
if state and terminal[state] then return 0 end
-- A task cancelled before it ever ran has no record yet: the caller's batchId (ARGV[8]) names it.
local batch = redis.call('HGET', KEYS[1], 'batchId')
if not batch or batch == '' then batch = ARGV[8] end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'finishedAt', ARGV[2], 'reason', ARGV[3], 'cost', ARGV[4],
  'batchId', batch, 'taskUUID', ARGV[5])
if not redis.call('HGET', KEYS[1], 'jobId') then redis.call('HSET', KEYS[1], 'jobId', ARGV[5], 'expected', 1) end
redis.call('ZREM', KEYS[3], ARGV[5])
-- Ended records are kept for a retention period (status, dashboard, retry), then expire.
for _, k in ipairs({1, 5, 6, 7, 8}) do redis.call('EXPIRE', KEYS[k], ARGV[9]) end
local evType = 'task.' .. ARGV[1]
if ARGV[1] == 'partial' then evType = 'task.completed' end
appendEvent(KEYS[4], ARGV[7], evType, ARGV[5], batch, ARGV[2], ARGV[6])
if batch == '' then return 1 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
-- 'settled' counts tasks that ended after the provider accepted them: inFlight = submitted - settled.
if state == 'submitted' then redis.call('HINCRBY', KEYS[2], 'settled', 1) end
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBYFLOAT', KEYS[2], 'cost', ARGV[4]) end
local b = redis.call('HMGET', KEYS[2], 'total', 'completed', 'failed', 'cancelled', 'state', 'cost', 'partial')
local ended = (tonumber(b[2]) or 0) + (tonumber(b[3]) or 0) + (tonumber(b[4]) or 0) + (tonumber(b[7]) or 0)
if b[5] == 'enqueued' and ended >= tonumber(b[1]) then
  redis.call('HSET', KEYS[2], 'finishedAt', ARGV[2])
  appendEvent(KEYS[4], ARGV[7], 'batch.completed', '', batch, ARGV[2], cjson.encode({ total = tonumber(b[1]), completed = tonumber(b[2]) or 0,
      partial = tonumber(b[7]) or 0, failed = tonumber(b[3]) or 0, cancelled = tonumber(b[4]) or 0,
      cost = tonumber(b[6]) or 0 }))
  return 2
end
return 1`;

/**
 * End a task once: set its terminal state, count it in its batch, and append its event (and the
 * batch's, when this was the batch's last task) to the events stream — in one step, so an event is
 * never lost or doubled. A 'partial' task's event is task.completed (its data lists failedSlots).
 * KEYS: task, batch, inflight, events, items, stored, failures, slotErrors.
 * ARGV: outcome, now, reason, cost, taskUUID, eventDataJson, streamMaxLen, batchId, retentionSec.
 * Returns 0 when it had already ended, 1 when ended, 2 when it also ended its batch.
 */
export const FINISH_TASK = `${APPEND_EVENT}

${TERMINAL}
${FINISH_BODY}`;

/**
 * Mark the last output stored and end the task as completed, in one step: MARK_STORED, then — when
 * this call stored the slot and every expected output is now stored — FINISH_TASK's body.
 * KEYS: as FINISH_TASK. ARGV: as FINISH_TASK (outcome 'completed'), then slot, outputJson.
 * Returns {storedCount, expected, finish}: storedCount -2 when the task already ended; finish is
 * FINISH_TASK's code, or -1 when it did not run.
 */
export const STORE_AND_FINISH = `${APPEND_EVENT}

${TERMINAL}
local function finishTask()
${FINISH_BODY}
end
local current = redis.call('HGET', KEYS[1], 'state')
if not current or terminal[current] then return {-2, 0, -1} end
local added = redis.call('HSETNX', KEYS[6], ARGV[10], ARGV[11])
local count = redis.call('HLEN', KEYS[6])
local expected = tonumber(redis.call('HGET', KEYS[1], 'expected'))
if added == 0 or count < expected then return {count, expected, -1} end
return {count, expected, finishTask()}`;

/**
 * Seal a batch once every task is enqueued: total = tasks in the batch; ends it (and appends its
 * batch.completed event) when all already ended. KEYS: batch, batchTasks, events.
 * ARGV: now, batchId, streamMaxLen. Returns {total, ended(0|1)}.
 */
export const SEAL_BATCH = `${APPEND_EVENT}

local total = redis.call('ZCARD', KEYS[2])
redis.call('HSET', KEYS[1], 'total', total, 'state', 'enqueued')
local b = redis.call('HMGET', KEYS[1], 'completed', 'failed', 'cancelled', 'finishedAt', 'cost', 'partial')
local ended = (tonumber(b[1]) or 0) + (tonumber(b[2]) or 0) + (tonumber(b[3]) or 0) + (tonumber(b[6]) or 0)
if ended >= total and not b[4] then
  redis.call('HSET', KEYS[1], 'finishedAt', ARGV[1])
  appendEvent(KEYS[3], ARGV[3], 'batch.completed', '', ARGV[2], ARGV[1], cjson.encode({ total = total, completed = tonumber(b[1]) or 0,
      partial = tonumber(b[6]) or 0, failed = tonumber(b[2]) or 0, cancelled = tonumber(b[3]) or 0,
      cost = tonumber(b[5]) or 0 }))
  return {total, 1}
end
return {total, 0}`;

/**
 * Prepare a failed task for another attempt under a new provider taskUUID (the provider refuses a
 * reused one): forget the failed attempt's items, outputs and error, uncount it in its batch, and
 * route the new provider UUID(s) to this task. KEYS: task, items, stored, batch.
 * ARGV: newProviderTaskUUID, attempt, subtasksCsv ('' in webhook mode), keyBase, taskUUID.
 * Returns 1 when reset, 0 when the task is not failed.
 */
export const RESET_FOR_RETRY = `
local h = redis.call('HMGET', KEYS[1], 'state', 'submittedAt', 'batchId', 'expected')
if h[1] ~= 'failed' then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], ARGV[4] .. 'failures:' .. ARGV[5], ARGV[4] .. 'slot-errors:' .. ARGV[5])
redis.call('PERSIST', KEYS[1])
redis.call('HDEL', KEYS[1], 'providerError', 'submittedAt', 'finishedAt', 'autoRetries', 'attemptResults',
  'attemptBase', 'attemptErrors', 'errorSignals', 'errorsSeen', 'retrySubmit', 'retrySlots', 'needsSlotRetry')
for slot = 0, (tonumber(h[4]) or 1) - 1 do redis.call('HDEL', KEYS[1], 'fetchTries:' .. slot, 'fetchAt:' .. slot) end
redis.call('HSET', KEYS[1], 'state', 'submitting', 'attempt', ARGV[2], 'providerTaskUUID', ARGV[1],
  'subtasks', ARGV[3], 'nextSlot', 0, 'reason', '', 'cost', 0, 'polls', 0)
if ARGV[3] == '' then
  redis.call('HSET', ARGV[4] .. 'task:' .. ARGV[1], 'parent', ARGV[5], 'slot', -1)
else
  local slot = 0
  for sub in string.gmatch(ARGV[3], '[^,]+') do
    redis.call('HSET', ARGV[4] .. 'task:' .. sub, 'parent', ARGV[5], 'slot', slot)
    slot = slot + 1
  end
end
if h[3] and h[3] ~= '' then
  redis.call('HINCRBY', KEYS[4], 'failed', -1)
  if h[2] and h[2] ~= '' then
    redis.call('HINCRBY', KEYS[4], 'settled', -1)
    redis.call('HINCRBY', KEYS[4], 'submitted', -1)
  end
  redis.call('HDEL', KEYS[4], 'finishedAt')
end
return 1`;

/**
 * Budgets (events/budget, worker/budget-gate). Admit a task of a batch to its budget before submit,
 * or hold the batch. Spent = the batch's reported cost; committed = the estimate of tasks admitted and
 * not yet ended: (admitted - ended) × the average admitted estimate. A task is admitted once (a set),
 * so a retried submit is not counted twice. `held` is sticky until the budget is set again; the
 * budget_exhausted event is appended only on the transition. No budget, or a cancel requested: admit.
 * KEYS: batch, admitted, events. ARGV: taskUUID, estimateUsd, now, batchId, streamMaxLen, epsilon.
 * Returns {admitted(0|1), heldNow(0|1), budgetUsd, spent, committed} (numbers as strings).
 */
export const ADMIT_TO_BUDGET = `${APPEND_EVENT}

local b = redis.call('HMGET', KEYS[1], 'budgetUsd', 'held', 'cancelRequested', 'cost', 'admitted',
  'admittedUsd', 'completed', 'failed', 'cancelled', 'partial')
local budget = tonumber(b[1])
if not budget or b[3] == '1' then return {1, 0, '', '', ''} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {1, 0, '', '', ''} end
local spent = tonumber(b[4]) or 0
local admitted = tonumber(b[5]) or 0
local ended = (tonumber(b[7]) or 0) + (tonumber(b[8]) or 0) + (tonumber(b[9]) or 0) + (tonumber(b[10]) or 0)
local committed = 0
if admitted > 0 then committed = math.max(0, admitted - ended) * ((tonumber(b[6]) or 0) / admitted) end
local estimate = tonumber(ARGV[2])
if b[2] ~= '1' and spent + committed + estimate <= budget + tonumber(ARGV[6]) then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'admitted', 1)
  redis.call('HINCRBYFLOAT', KEYS[1], 'admittedUsd', ARGV[2])
  return {1, 0, '', '', ''}
end
local heldNow = 0
if b[2] ~= '1' then
  heldNow = 1
  redis.call('HSET', KEYS[1], 'held', 1, 'heldAt', ARGV[3])
  appendEvent(KEYS[3], ARGV[5], 'batch.budget_exhausted', '', ARGV[4], ARGV[3], cjson.encode({ budgetUsd = budget, spent = spent,
      committed = committed, requested = estimate }))
end
return {0, heldNow, tostring(budget), tostring(spent), tostring(committed)}`;

/**
 * Set a batch's budget; when the batch was held, release it and append batch.resumed (once per hold).
 * KEYS: batch, events. ARGV: budgetUsd, now, batchId, streamMaxLen.
 * Returns -1 for an unknown batch, 1 when it resumed a held batch, 0 otherwise.
 */
export const SET_BUDGET = `${APPEND_EVENT}

if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'budgetUsd', ARGV[1])
if redis.call('HGET', KEYS[1], 'held') ~= '1' then return 0 end
redis.call('HDEL', KEYS[1], 'held', 'heldAt')
appendEvent(KEYS[2], ARGV[4], 'batch.resumed', '', ARGV[3], ARGV[2], cjson.encode({ budgetUsd = tonumber(ARGV[1]) }))
return 1`;
