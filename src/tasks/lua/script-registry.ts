// Every Lua script the relay runs, defined once: its command name, how many KEYS it takes, its source,
// and the typed call it becomes on a connection. `scripted(redis)` registers them all on a connection
// once and returns it typed; return codes are named in script-codes.ts. Stores call scripts only
// through this module.
import type { Cluster, Redis } from 'ioredis';
import { ADMISSION } from './admission.js';
import { RECORD_ATTEMPT } from './delivery-log-scripts.js';
import { NOTE_POLLED, NOTE_WEBHOOK, TAKE_POLL_TOKEN } from './delivery-scripts.js';
import {
  FOLD_QUEUE_COST,
  LEASE_DUE_DELIVERIES,
  RESCHEDULE_DELIVERY,
  SCHEDULE_DELIVERIES,
} from './event-scripts.js';
import {
  ADMIT_TO_BUDGET,
  CREATE_TASK,
  FINISH_TASK,
  MARK_STORED,
  MARK_SUBMITTED,
  RECORD_ERROR,
  RECORD_ITEM,
  RESET_FOR_RETRY,
  SEAL_BATCH,
  SET_BUDGET,
  STORE_AND_FINISH,
} from './scripts.js';
import { NOTE_FETCH_FAILURE, REOPEN_PARTIAL, START_SLOT_RETRY } from './slot-scripts.js';

type Connection = Redis | Cluster;

export interface ScriptSpec {
  readonly numberOfKeys: number;
  readonly lua: string;
}

export const SCRIPTS = {
  krCreateTask: { numberOfKeys: 1, lua: CREATE_TASK },
  krMarkSubmitted: { numberOfKeys: 4, lua: MARK_SUBMITTED },
  krRecordItem: { numberOfKeys: 3, lua: RECORD_ITEM },
  krRecordError: { numberOfKeys: 2, lua: RECORD_ERROR },
  krMarkStored: { numberOfKeys: 2, lua: MARK_STORED },
  krFinishTask: { numberOfKeys: 8, lua: FINISH_TASK },
  krStoreAndFinish: { numberOfKeys: 8, lua: STORE_AND_FINISH },
  krResetForRetry: { numberOfKeys: 4, lua: RESET_FOR_RETRY },
  krSealBatch: { numberOfKeys: 3, lua: SEAL_BATCH },
  krAdmitToBudget: { numberOfKeys: 3, lua: ADMIT_TO_BUDGET },
  krSetBudget: { numberOfKeys: 2, lua: SET_BUDGET },
  krStartSlotRetry: { numberOfKeys: 2, lua: START_SLOT_RETRY },
  krNoteFetchFailure: { numberOfKeys: 2, lua: NOTE_FETCH_FAILURE },
  krReopenPartial: { numberOfKeys: 7, lua: REOPEN_PARTIAL },
  krAdmission: { numberOfKeys: 8, lua: ADMISSION },
  krNoteWebhook: { numberOfKeys: 3, lua: NOTE_WEBHOOK },
  krNotePolled: { numberOfKeys: 2, lua: NOTE_POLLED },
  krTakePollToken: { numberOfKeys: 1, lua: TAKE_POLL_TOKEN },
  krFoldQueueCost: { numberOfKeys: 2, lua: FOLD_QUEUE_COST },
  krScheduleDeliveries: { numberOfKeys: 3, lua: SCHEDULE_DELIVERIES },
  krLeaseDueDeliveries: { numberOfKeys: 2, lua: LEASE_DUE_DELIVERIES },
  krRescheduleDelivery: { numberOfKeys: 2, lua: RESCHEDULE_DELIVERY },
  krRecordAttempt: { numberOfKeys: 4, lua: RECORD_ATTEMPT },
} as const satisfies Record<string, ScriptSpec>;

export type ScriptName = keyof typeof SCRIPTS;

/** The scripts as commands: KEYS first, then ARGV, as each script's header comment lists them. */
export interface ScriptCommands {
  krCreateTask(task: string, fields: string): Promise<number>;
  krMarkSubmitted(
    task: string,
    batch: string,
    inflight: string,
    items: string,
    now: number,
    nextPollAt: number,
    deadlineAt: number,
    uuid: string,
  ): Promise<[number, number, number]>;
  krRecordItem(
    task: string,
    items: string,
    delayed: string,
    imageUUID: string,
    json: string,
    base: string,
    provider: string,
    /** The arrival log (all or none): via ('' = none), now, retentionSec, minuteStart, rollupTtlSec. */
    ...arrival: (string | number)[]
  ): Promise<[number, string, number, number]>;
  krRecordError(
    task: string,
    items: string,
    json: string,
    /** Always '': pads ARGV so the shared RESOLVE_ATTEMPT fragment finds keyBase and uuid at ARGV[3..4]. */
    pad: '',
    base: string,
    provider: string,
  ): Promise<[number, string]>;
  krMarkStored(task: string, stored: string, slot: number, json: string): Promise<[number, number]>;
  krResetForRetry(
    task: string,
    items: string,
    stored: string,
    batch: string,
    provider: string,
    attempt: number,
    subtasks: string,
    base: string,
    uuid: string,
  ): Promise<number>;
  krFinishTask(
    task: string,
    batch: string,
    inflight: string,
    events: string,
    items: string,
    stored: string,
    failures: string,
    slotErrors: string,
    outcome: string,
    now: number,
    reason: string,
    cost: number,
    uuid: string,
    data: string,
    maxLen: number,
    batchId: string,
    retentionSec: number,
  ): Promise<number>;
  /** krFinishTask's KEYS and ARGV, then the slot and the output's JSON. */
  krStoreAndFinish(...args: (string | number)[]): Promise<[number, number, number]>;
  krSealBatch(
    batch: string,
    batchTasks: string,
    events: string,
    now: number,
    batchId: string,
    maxLen: number,
  ): Promise<[number, number]>;
  krAdmitToBudget(
    batch: string,
    admitted: string,
    events: string,
    taskUUID: string,
    estimateUsd: number,
    now: number,
    batchId: string,
    maxLen: number,
    epsilon: number,
  ): Promise<[number, number, string, string, string]>;
  krSetBudget(
    batch: string,
    events: string,
    budgetUsd: number,
    now: number,
    batchId: string,
    maxLen: number,
  ): Promise<number>;
  krStartSlotRetry(
    task: string,
    slotErrors: string,
    providerTaskUUID: string,
    slotAttempt: number,
    auto: number,
    missing: number,
    subtasksCsv: string,
    base: string,
    taskUUID: string,
    slotSubtasks: string,
    itemsCount: number,
    slotsCsv: string,
  ): Promise<number>;
  krNoteFetchFailure(
    task: string,
    failures: string,
    slot: number,
    maxAttempts: number,
    failure: string,
    retryAts: string,
  ): Promise<number>;
  krReopenPartial(
    task: string,
    batch: string,
    inflight: string,
    failures: string,
    items: string,
    stored: string,
    slotErrors: string,
    nextPollAt: number,
    deadlineAt: number,
    taskUUID: string,
  ): Promise<number>;
  krAdmission(...args: (string | number)[]): Promise<[number, string[]]>;
  krNoteWebhook(task: string, health: string, events: string, ...args: (string | number)[]): Promise<number>;
  krNotePolled(health: string, events: string, ...args: (string | number)[]): Promise<number>;
  krTakePollToken(bucket: string, now: number, rate: number, burst: number): Promise<number>;
  krFoldQueueCost(queueCost: string, events: string, max: number): Promise<[number, string]>;
  krScheduleDeliveries(
    events: string,
    due: string,
    data: string,
    ...args: (string | number)[]
  ): Promise<number>;
  krLeaseDueDeliveries(
    due: string,
    data: string,
    now: number,
    until: number,
    limit: number,
  ): Promise<string[]>;
  krRescheduleDelivery(due: string, data: string, id: string, json: string, at: number): Promise<number>;
  krRecordAttempt(a: string, e: string, s: string, ev: string, ...args: (string | number)[]): Promise<number>;
}

export type Scripted = Connection & ScriptCommands;

const registered = new WeakSet<Connection>();

/** Register every script on `redis` (once per connection) and return it with the typed commands. */
export function scripted(redis: Connection): Scripted {
  if (!registered.has(redis)) {
    for (const [name, def] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: def.numberOfKeys, lua: def.lua });
    }
    registered.add(redis);
  }
  return redis as Scripted;
}
