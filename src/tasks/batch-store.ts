// Batch records: size, counters (submitted / completed / failed / cancelled), cost, and the ordered
// list of the batch's tasks. Counters move only inside the task scripts, so they match the queue.

import { EVENTS_STREAM_MAX_LEN, type TaskKeys } from './keys.js';
import { codeOf } from './lua/script-codes.js';
import { type Scripted, scripted } from './lua/script-registry.js';
import type { RedisClient } from './task-store.js';
import type { BatchRecord } from './types.js';

/** Budgets: a cost within this much of the budget counts as within it (float sums of prices). */
const BUDGET_EPSILON_USD = 1e-9;

/** A batch record plus its budget hold (events/budget); shown by the dashboard. */
export type BatchView = BatchRecord & {
  /** Queued tasks are held: the budget would be passed. Cleared by setting the budget again. */
  held: boolean;
  heldAt: number | undefined;
};

/** The budget gate's answer for one task. */
export type BudgetVerdict =
  | { admitted: true }
  | { admitted: false; heldNow: boolean; budgetUsd: number; spent: number; committed: number };

export interface NewBatch {
  batchId: string;
  budgetUsd?: number | undefined;
  callbackUrl?: string | undefined;
}

export class BatchStore {
  private readonly redis: Scripted;
  constructor(
    redis: RedisClient,
    readonly keys: TaskKeys,
  ) {
    this.redis = scripted(redis);
  }

  /** Open (or re-open, when resuming an interrupted enqueue) a batch. */
  async open(b: NewBatch, now = Date.now()): Promise<void> {
    const key = this.keys.batch(b.batchId);
    const multi = this.redis.multi();
    multi.hsetnx(key, 'createdAt', now);
    multi.hsetnx(key, 'batchId', b.batchId);
    multi.hsetnx(key, 'state', 'enqueuing');
    multi.hsetnx(key, 'total', 0);
    if (b.budgetUsd !== undefined) multi.hset(key, 'budgetUsd', b.budgetUsd);
    if (b.callbackUrl !== undefined) multi.hset(key, 'callbackUrl', b.callbackUrl);
    multi.zadd(this.keys.batches(), 'NX', now, b.batchId);
    await multi.exec();
  }

  /**
   * A run is about to add tasks to a batch an earlier run sealed (a re-run with new lines): back to
   * 'enqueuing', and no longer finished, so no task can close the batch before seal() counts the new total.
   */
  async reopen(batchId: string): Promise<void> {
    const key = this.keys.batch(batchId);
    await this.redis.multi().hset(key, 'state', 'enqueuing').hdel(key, 'finishedAt').exec();
  }

  /** Add a chunk of the batch's taskUUIDs, with their index in the batch. */
  async addTasks(batchId: string, entries: readonly { index: number; taskUUID: string }[]): Promise<void> {
    if (entries.length === 0) return;
    const args: (string | number)[] = [];
    for (const e of entries) args.push(e.index, e.taskUUID);
    await this.redis.zadd(this.keys.batchTasks(batchId), ...args);
  }

  async seal(batchId: string, now = Date.now()): Promise<{ total: number; ended: boolean }> {
    const [total, ended] = await this.redis.krSealBatch(
      this.keys.batch(batchId),
      this.keys.batchTasks(batchId),
      this.keys.events(),
      now,
      batchId,
      EVENTS_STREAM_MAX_LEN,
    );
    return { total, ended: ended === 1 };
  }

  async get(batchId: string): Promise<BatchView | null> {
    const h = await this.redis.hgetall(this.keys.batch(batchId));
    if (!h.createdAt) return null;
    const num = (v: string | undefined) => (v ? Number(v) : 0);
    return {
      batchId,
      total: num(h.total),
      createdAt: num(h.createdAt),
      state: h.state === 'enqueued' ? 'enqueued' : 'enqueuing',
      submitted: num(h.submitted),
      settled: num(h.settled),
      completed: num(h.completed),
      partial: num(h.partial),
      failed: num(h.failed),
      cancelled: num(h.cancelled),
      cost: num(h.cost),
      finishedAt: h.finishedAt ? Number(h.finishedAt) : undefined,
      cancelRequested: h.cancelRequested === '1',
      budgetUsd: h.budgetUsd ? Number(h.budgetUsd) : undefined,
      callbackUrl: h.callbackUrl || undefined,
      held: h.held === '1',
      heldAt: h.heldAt ? Number(h.heldAt) : undefined,
    };
  }

  /** Batch ids, newest first. */
  async list(offset = 0, limit = 50): Promise<string[]> {
    return this.redis.zrevrange(this.keys.batches(), String(offset), String(offset + limit - 1));
  }

  /** The batch's taskUUIDs in batch order. */
  async taskUUIDs(batchId: string, offset = 0, limit = 1000): Promise<string[]> {
    return this.redis.zrange(this.keys.batchTasks(batchId), String(offset), String(offset + limit - 1));
  }

  async size(batchId: string): Promise<number> {
    return this.redis.zcard(this.keys.batchTasks(batchId));
  }

  async requestCancel(batchId: string): Promise<void> {
    await this.redis.hset(this.keys.batch(batchId), 'cancelRequested', 1);
  }

  /**
   * Budgets: admit a task to its batch's budget before it is submitted, or hold the batch (see
   * ADMIT_TO_BUDGET). Batches without a budget always admit.
   */
  async admitToBudget(
    batchId: string,
    taskUUID: string,
    estimateUsd: number,
    now = Date.now(),
  ): Promise<BudgetVerdict> {
    const [ok, heldNow, budget, spent, committed] = await this.redis.krAdmitToBudget(
      this.keys.batch(batchId),
      this.admittedKey(batchId),
      this.keys.events(),
      taskUUID,
      estimateUsd,
      now,
      batchId,
      EVENTS_STREAM_MAX_LEN,
      BUDGET_EPSILON_USD,
    );
    if (codeOf('admitToBudget', ok) === 'admitted') return { admitted: true };
    return {
      admitted: false,
      heldNow: heldNow === 1,
      budgetUsd: Number(budget),
      spent: Number(spent),
      committed: Number(committed),
    };
  }

  /** Set the budget; a held batch is released (appending batch.resumed). */
  async setBudget(
    batchId: string,
    budgetUsd: number,
    now = Date.now(),
  ): Promise<'unknown' | 'resumed' | 'set'> {
    const r = await this.redis.krSetBudget(
      this.keys.batch(batchId),
      this.keys.events(),
      budgetUsd,
      now,
      batchId,
      EVENTS_STREAM_MAX_LEN,
    );
    return codeOf('setBudget', r);
  }

  async isHeld(batchId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.batch(batchId), 'held')) === '1';
  }

  /**
   * Of one page of the batch's tasks, those not handed to the provider yet (no record, or still
   * 'submitting'): the ones a budget hold may have parked. `scanned` is the page size read.
   */
  async unsubmittedTasks(
    batchId: string,
    offset: number,
    limit: number,
  ): Promise<{ scanned: number; taskUUIDs: string[] }> {
    const ids = await this.taskUUIDs(batchId, offset, limit);
    if (ids.length === 0) return { scanned: 0, taskUUIDs: [] };
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.keys.task(id), 'state');
    const states = (await pipe.exec()) ?? [];
    const taskUUIDs = ids.filter((_, i) => {
      const state = states[i]?.[1];
      return state === null || state === undefined || state === 'submitting';
    });
    return { scanned: ids.length, taskUUIDs };
  }

  /** Set: the batch's tasks admitted to its budget. (Candidate for TaskKeys.) */
  private admittedKey(batchId: string): string {
    return `${this.keys.batch(batchId)}:admitted`;
  }
}
