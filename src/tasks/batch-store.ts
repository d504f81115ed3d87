// Batch records: size, counters (submitted / completed / failed / cancelled), cost, and the ordered
// list of the batch's tasks. Counters move only inside the task scripts, so they match the queue.

import { EVENTS_STREAM_MAX_LEN, type TaskKeys } from './keys.js';
import { SEAL_BATCH } from './lua/scripts.js';
import type { RedisClient } from './task-store.js';
import type { BatchRecord } from './types.js';

type Scripted = RedisClient & {
  krSealBatch(
    batch: string,
    batchTasks: string,
    events: string,
    now: number,
    batchId: string,
    maxLen: number,
  ): Promise<[number, number]>;
};

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
    if (!('krSealBatch' in redis)) redis.defineCommand('krSealBatch', { numberOfKeys: 3, lua: SEAL_BATCH });
    this.redis = redis as Scripted;
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

  async get(batchId: string): Promise<BatchRecord | null> {
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
      failed: num(h.failed),
      cancelled: num(h.cancelled),
      cost: num(h.cost),
      finishedAt: h.finishedAt ? Number(h.finishedAt) : undefined,
      cancelRequested: h.cancelRequested === '1',
      budgetUsd: h.budgetUsd ? Number(h.budgetUsd) : undefined,
      callbackUrl: h.callbackUrl || undefined,
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
}
