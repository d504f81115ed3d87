// The dataset's epoch: a random id stored once in Redis by the first process to start, shared by every
// process on that Redis. A process that finds it gone (or replaced) knows Redis lost its data. The first
// process to notice writes a new epoch and appends one `relay.data_lost` event, atomically, so one loss
// gives one event however many processes share the Redis.
import { randomUUID } from 'node:crypto';
import { EVENTS_STREAM_MAX_LEN, type TaskKeys } from './keys.js';
import type { RedisClient } from './task-store.js';

/** KEYS: epoch. ARGV: a fresh epoch. Returns the epoch in force (the existing one, or the fresh one). */
const OPEN_EPOCH = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

/**
 * KEYS: epoch, events. ARGV: the epoch this process knows, a fresh epoch, now, detectedBy, streamMaxLen.
 * Returns {0, epoch} when intact; {1, epoch} when another process already recorded the loss;
 * {2, fresh} when this call found the key gone, wrote the fresh epoch and appended relay.data_lost.
 */
const CHECK_EPOCH = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return {0, cur} end
if cur then return {1, cur} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', 'relay.data_lost', 'taskUUID', '',
  'batchId', '', 'at', ARGV[3],
  'data', cjson.encode({ previousEpoch = ARGV[1], epoch = ARGV[2], detectedBy = ARGV[4] }))
return {2, ARGV[2]}`;

export type EpochCheck =
  | { intact: true; epoch: string }
  | { intact: false; epoch: string; previousEpoch: string; recordedHere: boolean };

/** The epoch in force, created when this is the first process on a fresh dataset. */
export async function openEpoch(redis: RedisClient, keys: TaskKeys): Promise<string> {
  return String(await redis.eval(OPEN_EPOCH, 1, keys.epoch(), randomUUID()));
}

export async function checkEpoch(
  redis: RedisClient,
  keys: TaskKeys,
  known: string,
  detectedBy: string,
  now = Date.now(),
): Promise<EpochCheck> {
  const [code, epoch] = (await redis.eval(
    CHECK_EPOCH,
    2,
    keys.epoch(),
    keys.events(),
    known,
    randomUUID(),
    now,
    detectedBy,
    EVENTS_STREAM_MAX_LEN,
  )) as [number, string];
  if (code === 0) return { intact: true, epoch };
  return { intact: false, epoch, previousEpoch: known, recordedHere: code === 2 };
}
