// The delivery statistics' Redis scripts on a real Redis, with an injected clock: what feeds the latency
// sketch, its decay, the webhook-health switch (one event per transition) and the poll token bucket.
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseStreamEntry } from '../../src/events/event-types.js';
import { DeliveryStats } from '../../src/tasks/delivery-stats.js';
import { bucketOf, DECAY_PERIOD_MS, SKETCH_WEIGHT } from '../../src/tasks/latency-sketch.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';

const T0 = 1_800_000_000_000;
const CLASS = 'bfl:3@1|1mp|n1';

const redis = new Redis(testRedisUrl());
let tasks: TaskStore;
let stats: DeliveryStats;

beforeEach(() => {
  tasks = new TaskStore(redis, `kr-${uniqueId()}`, 'q');
  stats = new DeliveryStats(redis, tasks.keys, { lossThreshold: 0.5, minSlots: 4, recoverAfter: 2 });
});
afterAll(() => redis.quit());

/** A submitted task of CLASS, submitted at `at`. */
async function submitted(at: number): Promise<string> {
  const id = crypto.randomUUID();
  await tasks.create({ taskUUID: id, jobId: id, batchId: undefined, mode: 'webhook', expected: 1 }, at);
  await tasks.markSubmitted(id, undefined, { nextPollAt: at + 1000, deadlineAt: at + 60_000 }, at);
  await stats.tagLatencyClass(id, CLASS);
  return id;
}

async function relayEventTypes(): Promise<string[]> {
  const entries = await redis.xrange(tasks.keys.events(), '-', '+');
  return entries.map(([id, f]) => parseStreamEntry(id, f)?.type ?? '?');
}

describe('latency sketch in Redis', () => {
  it('a new webhook item adds its submit→arrival latency to its class; duplicates and polls add nothing', async () => {
    const id = await submitted(T0);
    await stats.noteWebhook(id, 1, 0, T0 + 1500);
    await stats.noteWebhook(id, 0, 1, T0 + 1600);
    await stats.notePolled(1, T0 + 9000);
    expect(await stats.histogram(CLASS)).toEqual(new Map([[bucketOf(1500), SKETCH_WEIGHT]]));
  });

  it('decays: each period every bucket is multiplied by the decay factor', async () => {
    const a = await submitted(T0);
    await stats.noteWebhook(a, 1, 0, T0 + 1500);
    const b = await submitted(T0 + 2 * DECAY_PERIOD_MS);
    await stats.noteWebhook(b, 1, 0, T0 + 2 * DECAY_PERIOD_MS + 3000);
    const h = await stats.histogram(CLASS);
    expect(h.get(bucketOf(1500))).toBe(Math.floor(SKETCH_WEIGHT * 0.9 ** 2));
    expect(h.get(bucketOf(3000))).toBe(SKETCH_WEIGHT);
  });
});

describe('webhook health', () => {
  it('degrades once past the threshold with enough slots, then recovers after enough webhooks', async () => {
    const id = await submitted(T0);
    await stats.noteWebhook(id, 1, 0, T0 + 100);
    expect(await stats.notePolled(2, T0 + 200)).toBe(false); // 2 of 3: past 0.5 but too few slots
    expect(await stats.notePolled(1, T0 + 300)).toBe(true); // 3 of 4
    expect(await stats.notePolled(5, T0 + 400)).toBe(false); // already degraded: no second event
    expect(await stats.readHealth()).toEqual({ mode: 'poll-first', lossRatio: 8 / 9 });
    expect(await stats.noteWebhook(id, 0, 1, T0 + 500)).toBe(false); // a duplicate is a webhook seen
    expect(await stats.noteWebhook(id, 0, 1, T0 + 600)).toBe(true);
    expect((await stats.readHealth()).mode).toBe('webhook-first');
    expect(await relayEventTypes()).toEqual(['relay.webhooks_degraded', 'relay.webhooks_recovered']);
  });
});

describe('poll budget', () => {
  it('grants POLL_RATE_MAX calls per second across callers and says how long to wait for the next', async () => {
    const grants = [];
    for (let i = 0; i < 5; i++) grants.push(await stats.takePollToken(4, T0));
    expect(grants.filter((w) => w === 0)).toHaveLength(4);
    expect(grants[4]).toBe(250);
    expect(await stats.takePollToken(4, T0 + 250)).toBe(0);
  });
});
