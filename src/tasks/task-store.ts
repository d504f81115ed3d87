// The task record: the one place where the worker, the webhook server and the reconciler meet.
// Invariants: an item is recorded once per (taskUUID, imageUUID); an output is stored once per slot;
// a task ends once, and is counted in its batch once.
import type { Cluster, Redis } from 'ioredis';
import type { ResultItem } from '../contract/index.js';
import {
  type Arrival,
  type ArrivalVia,
  minuteStart,
  noteArrival,
  ROLLUP_TTL_SEC,
  readArrivals,
} from './arrival-log.js';
import { EVENTS_STREAM_MAX_LEN, RECORD_RETENTION_SEC, TaskKeys } from './keys.js';
import { codeOf } from './lua/script-codes.js';
import { type Scripted, scripted } from './lua/script-registry.js';
import { parseFailures, SlotStore } from './slot-store.js';
import type {
  DeliveryMode,
  ProviderFailure,
  ReceivedItem,
  RecordItemOutcome,
  SlotFailure,
  StoredOutput,
  TaskRecord,
  TaskState,
} from './types.js';

export type RedisClient = Redis | Cluster;

export interface NewTask {
  taskUUID: string;
  jobId: string;
  batchId: string | undefined;
  mode: DeliveryMode;
  expected: number;
  subtasks?: string[];
}

export type FinishOutcome = Extract<TaskState, 'completed' | 'partial' | 'failed' | 'cancelled'>;

export class TaskStore {
  readonly keys: TaskKeys;
  /** Per-slot outcomes, fetch attempts and slot retries of the same tasks. */
  readonly slots: SlotStore;
  private readonly redis: Scripted;

  constructor(redis: RedisClient, queuePrefix: string, queueName: string) {
    this.keys = new TaskKeys(queuePrefix, queueName);
    this.redis = scripted(redis);
    this.slots = new SlotStore(redis, this.keys);
  }

  /** Create the record before the first submit; returns false when it already existed. */
  async create(t: NewTask, now = Date.now()): Promise<boolean> {
    return (await this.createRecord(t, now)) !== null;
  }

  /** Create the record before the first submit: the record as written, or null when it already existed. */
  async createRecord(t: NewTask, now = Date.now()): Promise<TaskRecord | null> {
    const fields: (string | number)[] = [
      'taskUUID',
      t.taskUUID,
      'jobId',
      t.jobId,
      'batchId',
      t.batchId ?? '',
      'state',
      'submitting',
      'mode',
      t.mode,
      'expected',
      t.expected,
      'createdAt',
      now,
      'deadlineAt',
      0,
      'nextPollAt',
      0,
      'polls',
      0,
      'nextSlot',
      0,
      'subtasks',
      (t.subtasks ?? []).join(','),
    ];
    const created = await this.redis.krCreateTask(
      this.keys.task(t.taskUUID),
      JSON.stringify(fields.map(String)),
    );
    if (t.subtasks?.length) {
      const multi = this.redis.multi();
      t.subtasks.forEach((sub, slot) => {
        multi.hset(this.keys.task(sub), 'parent', t.taskUUID, 'slot', slot);
      });
      await multi.exec();
    }
    return codeOf('createTask', created) === 'created' ? newTaskRecord(fields) : null;
  }

  /** The provider accepted the task: it is in flight from now until nextPollAt / deadlineAt. */
  async markSubmitted(
    taskUUID: string,
    batchId: string | undefined,
    times: { nextPollAt: number; deadlineAt: number },
    now = Date.now(),
  ): Promise<boolean> {
    return (await this.submitted(taskUUID, batchId, times, now)).moved;
  }

  /**
   * markSubmitted, also saying whether a result or an error was already recorded (a webhook that
   * beat the submit's acknowledgement): when not, the caller need not read the slots now.
   */
  async submitted(
    taskUUID: string,
    batchId: string | undefined,
    times: { nextPollAt: number; deadlineAt: number },
    now = Date.now(),
  ): Promise<{ moved: boolean; anythingRecorded: boolean }> {
    const [r, received, errorSignals] = await this.redis.krMarkSubmitted(
      this.keys.task(taskUUID),
      this.keys.batch(batchId ?? '_'),
      this.keys.inflight(),
      this.keys.items(taskUUID),
      now,
      times.nextPollAt,
      times.deadlineAt,
      taskUUID,
    );
    return { moved: codeOf('applied', r) === 'applied', anythingRecorded: received > 0 || errorSignals > 0 };
  }

  /**
   * Whether anything happened since the worker last looked: more items received than it saw, a
   * provider error it has not looked at, an operator slot retry, or the task ended (cancel). Read after parking a job, to close the race with a
   * webhook that tried to wake it while it was still active.
   */
  async hasNewWork(taskUUID: string, seenReceived: number): Promise<boolean> {
    // Two reads sent together, not a MULTI: each only moves one way while the job is parked.
    const p = this.redis.pipeline();
    p.hlen(this.keys.items(taskUUID));
    p.hmget(this.keys.task(taskUUID), 'errorSignals', 'errorsSeen', 'state', 'needsSlotRetry');
    const res = await p.exec();
    const received = Number(res?.[0]?.[1] ?? 0);
    const [signals, seen, state, retry] = (res?.[1]?.[1] as (string | null)[] | undefined) ?? [];
    return (
      received > seenReceived ||
      Number(signals ?? 0) > Number(seen ?? 0) ||
      retry === '1' ||
      state === 'cancelled' ||
      state === 'failed'
    );
  }

  /**
   * Record a result item for a provider task UUID (the task itself, or an upload-mode subtask). With
   * `via`, a new item's arrival is logged in the same script (see arrival-log.ts) and the outcome says
   * whether the task's job is parked, i.e. whether it needs waking.
   */
  async recordItem(providerTaskUUID: string, item: ResultItem): Promise<RecordItemOutcome>;
  async recordItem(
    providerTaskUUID: string,
    item: ResultItem,
    via: ArrivalVia,
  ): Promise<RecordItemOutcome & { parked?: boolean }>;
  async recordItem(
    providerTaskUUID: string,
    item: ResultItem,
    via?: ArrivalVia,
  ): Promise<RecordItemOutcome & { parked?: boolean }> {
    const now = Date.now();
    const arrival = via ? [via, now, RECORD_RETENTION_SEC, minuteStart(now), ROLLUP_TTL_SEC] : [];
    const [code, jobId, slot, parked] = await this.redis.krRecordItem(
      this.keys.task(providerTaskUUID),
      this.keys.items(providerTaskUUID),
      this.keys.delayed,
      item.imageUUID,
      `${now}|${JSON.stringify(item)}`,
      this.keys.base,
      providerTaskUUID,
      ...arrival,
    );
    const kind = codeOf('recordItem', code);
    if (kind === 'new') return via ? { kind, jobId, slot, parked: parked === 1 } : { kind, jobId, slot };
    return kind === 'unknown' ? { kind } : { kind, jobId };
  }

  /** Record the provider's failure of a task. */
  async recordError(
    providerTaskUUID: string,
    err: ProviderFailure,
  ): Promise<{ kind: 'new' | 'duplicate' | 'late'; jobId: string } | { kind: 'unknown' }> {
    const [code, jobId] = await this.redis.krRecordError(
      this.keys.task(providerTaskUUID),
      this.keys.items(providerTaskUUID),
      JSON.stringify(err),
      '',
      this.keys.base,
      providerTaskUUID,
    );
    const kind = codeOf('recordError', code);
    return kind === 'unknown' ? { kind } : { kind, jobId };
  }

  /** Returns how many of the expected outputs are stored, or null when the task already ended. */
  async markStored(
    taskUUID: string,
    out: StoredOutput,
  ): Promise<{ stored: number; expected: number } | null> {
    const [stored, expected] = await this.redis.krMarkStored(
      this.keys.task(taskUUID),
      this.keys.stored(taskUUID),
      out.slot,
      JSON.stringify(out),
    );
    return stored < 0 ? null : { stored, expected };
  }

  /**
   * End the task once, appending its event. Returns 'already' when it had ended, 'batchEnded' when its
   * batch ended too. `outputs` (completed and partial tasks) and `failedSlots` go into the event.
   */
  async finish(
    taskUUID: string,
    batchId: string | undefined,
    outcome: FinishOutcome,
    reason = '',
    cost = 0,
    outputs: readonly StoredOutput[] = [],
    now = Date.now(),
    failedSlots: readonly SlotFailure[] = [],
  ): Promise<'already' | 'ended' | 'batchEnded'> {
    const r = await this.redis.krFinishTask(
      ...this.finishArgs(taskUUID, batchId, outcome, reason, cost, outputs, now, failedSlots),
    );
    return codeOf('finishTask', r);
  }

  /**
   * Mark the task's last missing output stored and end it completed with `outputs` (every output,
   * this one included), in one script. `finished` is undefined when it did not end the task: the
   * slot was stored before, or outputs are still missing — then `finish` is the caller's to call.
   * Null when the task had already ended (as markStored).
   */
  async storeAndFinish(
    taskUUID: string,
    batchId: string | undefined,
    out: StoredOutput,
    outputs: readonly StoredOutput[],
    now = Date.now(),
  ): Promise<{ stored: number; expected: number; finished?: 'already' | 'ended' | 'batchEnded' } | null> {
    const cost = outputs.reduce((s, o) => s + (o.cost ?? 0), 0);
    const [stored, expected, finish] = await this.redis.krStoreAndFinish(
      ...this.finishArgs(taskUUID, batchId, 'completed', '', cost, outputs, now, []),
      out.slot,
      JSON.stringify(out),
    );
    if (stored < 0) return null;
    return finish < 0 ? { stored, expected } : { stored, expected, finished: codeOf('finishTask', finish) };
  }

  /** FINISH_TASK's KEYS and ARGV. */
  private finishArgs(
    taskUUID: string,
    batchId: string | undefined,
    outcome: FinishOutcome,
    reason: string,
    cost: number,
    outputs: readonly StoredOutput[],
    now: number,
    failedSlots: readonly SlotFailure[],
  ) {
    const data = JSON.stringify(
      outcome === 'completed' || outcome === 'partial'
        ? { cost, outputs, failedSlots, ...(outcome === 'partial' ? { partial: true, reason } : {}) }
        : failedSlots.length
          ? { reason, failedSlots }
          : { reason },
    );
    return [
      this.keys.task(taskUUID),
      this.keys.batch(batchId ?? '_'),
      this.keys.inflight(),
      this.keys.events(),
      this.keys.items(taskUUID),
      this.keys.stored(taskUUID),
      this.keys.failures(taskUUID),
      this.keys.slotErrors(taskUUID),
      outcome,
      now,
      reason,
      cost,
      taskUUID,
      data,
      EVENTS_STREAM_MAX_LEN,
      batchId ?? '',
      RECORD_RETENTION_SEC,
    ] as const;
  }

  /** Why the queue was paused by the worker (auth/quota), shown by the dashboard and CLI. */
  async setQueuePausedReason(reason: string | null): Promise<void> {
    if (reason === null) await this.redis.del(this.keys.pausedReason());
    else await this.redis.set(this.keys.pausedReason(), reason);
  }

  async queuePausedReason(): Promise<string | null> {
    return this.redis.get(this.keys.pausedReason());
  }

  async inflightCount(): Promise<number> {
    return this.redis.zcard(this.keys.inflight());
  }

  async isBatchCancelled(batchId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.batch(batchId), 'cancelRequested')) === '1';
  }

  /**
   * Make a failed task ready for another attempt with a new provider taskUUID (and subtasks in upload
   * mode). Returns false when the task is not in the failed state.
   */
  async resetForRetry(
    taskUUID: string,
    batchId: string | undefined,
    next: { attempt: number; providerTaskUUID: string; subtasks: readonly string[] },
  ): Promise<boolean> {
    const r = await this.redis.krResetForRetry(
      this.keys.task(taskUUID),
      this.keys.items(taskUUID),
      this.keys.stored(taskUUID),
      this.keys.batch(batchId ?? '_'),
      next.providerTaskUUID,
      next.attempt,
      next.subtasks.join(','),
      this.keys.base,
      taskUUID,
    );
    return codeOf('applied', r) === 'applied';
  }

  async get(taskUUID: string): Promise<TaskRecord | null> {
    return parseRecord(taskUUID, await this.redis.hgetall(this.keys.task(taskUUID)));
  }

  /**
   * Everything an activation of the task's job looks at, read in one round trip (one pipeline, no
   * MULTI: each hash only grows while the task runs, and the worker re-checks for new work after it
   * parks): the record, received items, stored outputs and failed slots, and — given the batch — the
   * batch's cancel flag and whether it has a budget.
   */
  async snapshot(taskUUID: string, batchId?: string): Promise<TaskSnapshot> {
    const p = this.redis.pipeline();
    p.hgetall(this.keys.task(taskUUID));
    p.hgetall(this.keys.items(taskUUID));
    p.hgetall(this.keys.stored(taskUUID));
    p.hgetall(this.keys.failures(taskUUID));
    if (batchId) p.hmget(this.keys.batch(batchId), 'cancelRequested', 'budgetUsd');
    const res = (await p.exec()) ?? [];
    const failed = res.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    const hash = (i: number) => (res[i]?.[1] ?? {}) as Record<string, string>;
    const batch = batchId ? ((res[4]?.[1] ?? []) as (string | null)[]) : undefined;
    return {
      rec: parseRecord(taskUUID, hash(0)),
      progress: {
        items: parseItems(hash(1)),
        stored: parseStored(hash(2)),
        failures: parseFailures(hash(3)),
      },
      ...(batch
        ? { batch: { cancelled: batch[0] === '1', hasBudget: batch[1] != null && batch[1] !== '' } }
        : {}),
    };
  }

  async setNextPoll(taskUUID: string, nextPollAt: number): Promise<void> {
    const multi = this.redis.multi();
    multi.hset(this.keys.task(taskUUID), 'nextPollAt', nextPollAt);
    multi.hincrby(this.keys.task(taskUUID), 'polls', 1);
    await multi.exec();
  }

  /**
   * Drop the inline image data (base64 / data URI) of a stored item: once the bytes are in S3 they
   * need not also sit in Redis. The slot and receipt time are kept, so dedup is unaffected.
   */
  async forgetInlineData(taskUUID: string, r: ReceivedItem): Promise<void> {
    if (r.item.imageBase64Data === undefined && r.item.imageDataURI === undefined) return;
    const { imageBase64Data: _b, imageDataURI: _d, ...rest } = r.item;
    await this.redis.hset(
      this.keys.items(taskUUID),
      r.item.imageUUID,
      `${r.slot}|${r.receivedAt}|${JSON.stringify(rest)}`,
    );
  }

  async receivedItems(taskUUID: string): Promise<ReceivedItem[]> {
    return parseItems(await this.redis.hgetall(this.keys.items(taskUUID)));
  }

  async storedOutputs(taskUUID: string): Promise<StoredOutput[]> {
    return parseStored(await this.redis.hgetall(this.keys.stored(taskUUID)));
  }

  /** Note how a new result arrived, for the task page and the charts (see arrival-log.ts). */
  async noteArrival(taskUUID: string, slot: number, via: ArrivalVia): Promise<void> {
    await noteArrival(this.redis, this.keys, taskUUID, slot, via);
  }

  /** How and when each slot's result arrived (the trace's kr.provider_wait reads it at the end). */
  arrivals(taskUUID: string): Promise<Arrival[]> {
    return readArrivals(this.redis, this.keys, taskUUID);
  }
}

/** What a task's slots look like: received items, stored outputs, failed slots (each in slot order). */
export interface SlotsState {
  items: ReceivedItem[];
  stored: StoredOutput[];
  failures: SlotFailure[];
}

/** One activation's read of a task (TaskStore.snapshot). */
export interface TaskSnapshot {
  rec: TaskRecord | null;
  progress: SlotsState;
  /** Read when a batchId was given. */
  batch?: { cancelled: boolean; hasBudget: boolean };
}

/** A task record as `create` writes it, without reading it back. */
export function newTaskRecord(fields: readonly (string | number)[]): TaskRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) h[String(fields[i])] = String(fields[i + 1]);
  return parseRecord(String(h.taskUUID), h) as TaskRecord;
}

function parseRecord(taskUUID: string, h: Record<string, string>): TaskRecord | null {
  if (!h.state) return null;
  return {
    taskUUID,
    jobId: h.jobId ?? taskUUID,
    batchId: h.batchId || undefined,
    state: h.state as TaskState,
    mode: (h.mode as DeliveryMode) ?? 'webhook',
    expected: Number(h.expected),
    createdAt: Number(h.createdAt),
    submittedAt: h.submittedAt ? Number(h.submittedAt) : undefined,
    finishedAt: h.finishedAt ? Number(h.finishedAt) : undefined,
    deadlineAt: Number(h.deadlineAt),
    dueAt: Number(h.dueAt ?? h.nextPollAt ?? 0),
    nextPollAt: Number(h.nextPollAt),
    polls: Number(h.polls ?? 0),
    reason: h.reason || undefined,
    providerError: h.providerError ? (JSON.parse(h.providerError) as ProviderFailure) : undefined,
    subtasks: h.subtasks ? h.subtasks.split(',') : [],
    attempt: Number(h.attempt ?? 0),
    providerTaskUUID: h.providerTaskUUID || taskUUID,
    slotAttempt: Number(h.slotAttempt ?? 0),
    autoRetries: Number(h.autoRetries ?? 0),
    attemptResults: h.attemptResults ? Number(h.attemptResults) : Number(h.expected),
    attemptBase: Number(h.attemptBase ?? 0),
    attemptErrors: Number(h.attemptErrors ?? 0),
    errorSignals: Number(h.errorSignals ?? 0),
    errorsSeen: Number(h.errorsSeen ?? 0),
    retrySubmit: h.retrySubmit === '1',
    needsSlotRetry: h.needsSlotRetry === '1',
    fetchAt: new Map(
      Object.entries(h)
        .filter(([k]) => k.startsWith('fetchAt:'))
        .map(([k, v]) => [Number(k.slice('fetchAt:'.length)), Number(v)]),
    ),
  };
}

function parseItems(h: Record<string, string>): ReceivedItem[] {
  return Object.values(h)
    .map((v) => {
      const bar = v.indexOf('|');
      const bar2 = v.indexOf('|', bar + 1);
      return {
        slot: Number(v.slice(0, bar)),
        receivedAt: Number(v.slice(bar + 1, bar2)),
        item: JSON.parse(v.slice(bar2 + 1)) as ResultItem,
      };
    })
    .sort((a, b) => a.slot - b.slot);
}

function parseStored(h: Record<string, string>): StoredOutput[] {
  return Object.values(h)
    .map((v) => JSON.parse(v) as StoredOutput)
    .sort((a, b) => a.slot - b.slot);
}
