// How results reach us, shared by every process through Redis: the provider's latency per class (the
// sketch the poll policy reads), webhook vs polling counts with the poll-first switch, and the
// queue-wide getResponse budget. Each write is one Lua script, so concurrent processes never race.
import { EVENTS_STREAM_MAX_LEN, RECORD_RETENTION_SEC, type TaskKeys } from './keys.js';
import {
  DECAY_FACTOR,
  DECAY_PERIOD_MS,
  histogramFromHash,
  SKETCH_BASE_MS,
  SKETCH_BUCKETS,
  SKETCH_RATIO,
  SKETCH_WEIGHT,
} from './latency-sketch.js';
import { codeOf } from './lua/script-codes.js';
import { type Scripted, scripted } from './lua/script-registry.js';
import type { RedisClient } from './task-store.js';

export interface DeliveryHealthOptions {
  /** Fraction of slots recovered by polling that switches new tasks to poll-first. */
  lossThreshold: number;
  /** Slots (decayed) that must be counted before the loss ratio can switch anything. */
  minSlots: number;
  /** Webhooks seen while poll-first that switch back to webhook-first. */
  recoverAfter: number;
}

export interface DeliveryHealth {
  mode: 'webhook-first' | 'poll-first';
  /** Slots recovered by polling / slots delivered (decayed window); null before any. */
  lossRatio: number | null;
}

/** A burst of this many seconds' worth of polls may go at once after a quiet spell. */
const POLL_BURST_SECONDS = 1;

export class DeliveryStats {
  private readonly redis: Scripted;

  constructor(
    redis: RedisClient,
    private readonly keys: TaskKeys,
    private readonly health: DeliveryHealthOptions,
  ) {
    this.redis = scripted(redis);
  }

  /** Remember the task's latency class, so its webhooks can feed the right sketch. */
  async tagLatencyClass(taskUUID: string, latencyClass: string): Promise<void> {
    await this.redis.hset(this.keys.task(taskUUID), 'latencyClass', latencyClass);
  }

  /**
   * A webhook call for task `taskUUID` recorded `fresh` new items and `duplicates` already known ones.
   * Returns true when this switched webhook health back to webhook-first.
   */
  async noteWebhook(taskUUID: string, fresh: number, duplicates: number, now = Date.now()): Promise<boolean> {
    const r = await this.redis.krNoteWebhook(
      this.keys.task(taskUUID),
      this.keys.deliveryHealth(),
      this.keys.events(),
      now,
      fresh,
      fresh + duplicates,
      this.keys.base,
      SKETCH_BASE_MS,
      Math.log(SKETCH_RATIO),
      SKETCH_BUCKETS,
      SKETCH_WEIGHT,
      DECAY_PERIOD_MS,
      DECAY_FACTOR,
      this.health.recoverAfter,
      EVENTS_STREAM_MAX_LEN,
      RECORD_RETENTION_SEC,
    );
    return codeOf('healthSwitch', r) === 'switched';
  }

  /**
   * Move a task's due time (and first poll) once the sketch says better than it did at submit: the
   * record's dueAt/nextPollAt and its score in the in-flight set (overdue views), in one MULTI.
   */
  async moveDue(taskUUID: string, dueAt: number): Promise<void> {
    const multi = this.redis.multi();
    multi.hset(this.keys.task(taskUUID), 'dueAt', dueAt, 'nextPollAt', dueAt);
    multi.zadd(this.keys.inflight(), 'XX', dueAt, taskUUID);
    await multi.exec();
  }

  /** `count` results were recovered by polling. Returns true when this switched to poll-first. */
  async notePolled(count: number, now = Date.now()): Promise<boolean> {
    const r = await this.redis.krNotePolled(
      this.keys.deliveryHealth(),
      this.keys.events(),
      now,
      count,
      SKETCH_WEIGHT,
      DECAY_PERIOD_MS,
      DECAY_FACTOR,
      this.health.lossThreshold,
      this.health.minSlots,
      EVENTS_STREAM_MAX_LEN,
    );
    return codeOf('healthSwitch', r) === 'switched';
  }

  readHealth(): Promise<DeliveryHealth> {
    return readDeliveryHealth(this.redis, this.keys);
  }

  /** The class's histogram (decayed weights by bucket); empty when nothing was learned yet. */
  async histogram(latencyClass: string): Promise<Map<number, number>> {
    return histogramFromHash(await this.redis.hgetall(this.keys.latency(latencyClass)));
  }

  /** Take one getResponse token: 0 when granted, else ms to wait before asking again. */
  async takePollToken(ratePerSec: number, now = Date.now()): Promise<number> {
    return this.redis.krTakePollToken(
      this.keys.pollBudget(),
      now,
      ratePerSec,
      Math.max(1, ratePerSec * POLL_BURST_SECONDS),
    );
  }
}

/** Webhook health as readers (dashboard, metrics) see it; writes go through DeliveryStats. */
export async function readDeliveryHealth(
  redis: RedisClient,
  keys: Pick<TaskKeys, 'deliveryHealth'>,
): Promise<DeliveryHealth> {
  const [state, webhook, polled] = await redis.hmget(keys.deliveryHealth(), '_state', 'webhook', 'polled');
  const w = Number(webhook ?? 0);
  const p = Number(polled ?? 0);
  return {
    mode: state === 'degraded' ? 'poll-first' : 'webhook-first',
    lossRatio: w + p > 0 ? p / (w + p) : null,
  };
}
