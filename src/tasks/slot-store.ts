// Per-slot outcomes of a task: which slots failed and why, per-slot fetch attempts, and slot retries
// (a new provider task for the missing slots only). Stored slots live in the task store's `stored`
// hash; a slot ends once: stored, or failed (first failure wins).
import type { Cluster, Redis } from 'ioredis';
import type { TaskKeys } from './keys.js';
import { codeOf } from './lua/script-codes.js';
import { type Scripted, scripted } from './lua/script-registry.js';
import type { ProviderFailure, SlotFailure } from './types.js';

type RedisClient = Redis | Cluster;

/** A slot retry about to be submitted. */
export interface SlotRetry {
  /** The provider taskUUID (webhook mode), derived from the task's UUID and slotAttempt. */
  providerTaskUUID: string;
  slotAttempt: number;
  /** Counted against SLOT_RETRY_ATTEMPTS (false for an operator retry). */
  auto: boolean;
  /** The slots generated again. */
  slots: readonly number[];
  /** Upload mode: the task's subtasks with the retried slots' replaced ([] in webhook mode). */
  subtasks: readonly string[];
  /** Items received so far: the new provider task's items are counted from here. */
  itemsCount: number;
}

export class SlotStore {
  private readonly redis: Scripted;
  constructor(
    redis: RedisClient,
    private readonly keys: TaskKeys,
  ) {
    this.redis = scripted(redis);
  }

  /** Slots that ended without a stored output, in slot order. */
  async failures(taskUUID: string): Promise<SlotFailure[]> {
    return parseFailures(await this.redis.hgetall(this.keys.failures(taskUUID)));
  }

  /** End these slots as failed (a slot that already failed keeps its first reason). */
  async failSlots(taskUUID: string, failures: readonly SlotFailure[]): Promise<void> {
    if (failures.length === 0) return;
    const multi = this.redis.multi();
    for (const f of failures) multi.hsetnx(this.keys.failures(taskUUID), String(f.slot), JSON.stringify(f));
    await multi.exec();
  }

  /** Upload mode: the current attempt's item error of each slot that has one. */
  async slotErrors(taskUUID: string): Promise<Map<number, ProviderFailure>> {
    const h = await this.redis.hgetall(this.keys.slotErrors(taskUUID));
    return new Map(Object.entries(h).map(([slot, v]) => [Number(slot), JSON.parse(v) as ProviderFailure]));
  }

  /**
   * Count a failed fetch of a slot's result; at `maxAttempts` the slot fails with `failure`, else it
   * is tried again at `retryAts[n - 1]` after the n-th failure. Returns the failed fetches so far
   * (0: the task already ended).
   */
  async noteFetchFailure(
    taskUUID: string,
    failure: SlotFailure,
    maxAttempts: number,
    retryAts: readonly number[],
  ): Promise<number> {
    return this.redis.krNoteFetchFailure(
      this.keys.task(taskUUID),
      this.keys.failures(taskUUID),
      failure.slot,
      maxAttempts,
      JSON.stringify(failure),
      retryAts.join(','),
    );
  }

  /** One more failed S3 step of the task (S3 away): returns how many so far, for the backoff. */
  async noteStoreFailure(taskUUID: string): Promise<number> {
    return this.redis.hincrby(this.keys.task(taskUUID), 'storeFailures', 1);
  }

  /** Record a slot retry before submitting it; false when this slotAttempt was recorded before. */
  async startRetry(taskUUID: string, r: SlotRetry): Promise<boolean> {
    const pairs = r.subtasks.length ? r.slots.map((slot) => [slot, r.subtasks[slot]]) : [];
    const started = await this.redis.krStartSlotRetry(
      this.keys.task(taskUUID),
      this.keys.slotErrors(taskUUID),
      r.providerTaskUUID,
      r.slotAttempt,
      r.auto ? 1 : 0,
      r.slots.length,
      r.subtasks.join(','),
      this.keys.base,
      taskUUID,
      JSON.stringify(pairs),
      r.itemsCount,
      r.slots.join(','),
    );
    return codeOf('applied', started) === 'applied';
  }

  /** The slot retry reached the provider: results are due from now. */
  async markRetrySubmitted(
    taskUUID: string,
    times: { nextPollAt: number; deadlineAt: number },
  ): Promise<void> {
    const multi = this.redis.multi();
    multi.hset(
      this.keys.task(taskUUID),
      'retrySubmit',
      0,
      'nextPollAt',
      times.nextPollAt,
      'dueAt',
      times.nextPollAt,
      'deadlineAt',
      times.deadlineAt,
      'polls',
      0,
    );
    multi.zadd(this.keys.inflight(), 'XX', times.nextPollAt, taskUUID);
    await multi.exec();
  }

  /** The slots of the retry being submitted (set by startRetry). */
  async retrySlots(taskUUID: string): Promise<number[]> {
    const v = await this.redis.hget(this.keys.task(taskUUID), 'retrySlots');
    return v ? v.split(',').map(Number) : [];
  }

  /** Webhook mode: getResponse's count of failed items of the current provider task. */
  async noteAttemptErrors(taskUUID: string, errors: number): Promise<void> {
    await this.redis.hset(this.keys.task(taskUUID), 'attemptErrors', errors);
  }

  /** The worker looked at the error signals up to `n`. */
  async markErrorsSeen(taskUUID: string, n: number): Promise<void> {
    await this.redis.hset(this.keys.task(taskUUID), 'errorsSeen', n);
  }

  async clearNeedsSlotRetry(taskUUID: string): Promise<void> {
    await this.redis.hset(this.keys.task(taskUUID), 'needsSlotRetry', 0);
  }

  /** Operator retry of a partial task (see REOPEN_PARTIAL); false when it is not partial. */
  async reopenPartial(
    taskUUID: string,
    batchId: string | undefined,
    times: { nextPollAt: number; deadlineAt: number },
  ): Promise<boolean> {
    const r = await this.redis.krReopenPartial(
      this.keys.task(taskUUID),
      this.keys.batch(batchId ?? '_'),
      this.keys.inflight(),
      this.keys.failures(taskUUID),
      this.keys.items(taskUUID),
      this.keys.stored(taskUUID),
      this.keys.slotErrors(taskUUID),
      times.nextPollAt,
      times.deadlineAt,
      taskUUID,
    );
    return codeOf('applied', r) === 'applied';
  }
}

/** The failures hash (slot → SlotFailure JSON), in slot order. */
export function parseFailures(h: Record<string, string>): SlotFailure[] {
  return Object.values(h)
    .map((v) => JSON.parse(v) as SlotFailure)
    .sort((a, b) => a.slot - b.slot);
}
