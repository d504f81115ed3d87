// The queue-level cost total: every completed task's reported cost counted exactly once, batch or not,
// however often and however concurrently it is read.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCost } from '../../src/events/queue-cost.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterAll(() => redis.disconnect());

describe('queueCost', () => {
  it('sums completed tasks’ cost once, across more events than one fold reads, under concurrent reads', async () => {
    const tasks = new TaskStore(redis, `kr-${uniqueId()}`, 'q');
    const ctx = { redis, tasks };
    expect(await queueCost(ctx)).toEqual({ totalUsd: 0 });
    const ends = [];
    for (let i = 0; i < 1100; i++)
      ends.push(tasks.finish(crypto.randomUUID(), undefined, 'completed', '', 0.04, []));
    ends.push(tasks.finish(crypto.randomUUID(), 'some-batch', 'completed', '', 0.08, []));
    ends.push(tasks.finish(crypto.randomUUID(), undefined, 'failed', 'no'));
    await Promise.all(ends);
    const reads = await Promise.all([queueCost(ctx), queueCost(ctx), queueCost(ctx)]);
    for (const r of reads) expect(r.totalUsd).toBeCloseTo(1100 * 0.04 + 0.08, 6);
    await tasks.finish(crypto.randomUUID(), undefined, 'completed', '', 0.04, []);
    expect((await queueCost(ctx)).totalUsd).toBeCloseTo(1101 * 0.04 + 0.08, 6);
    expect((await queueCost(ctx)).totalUsd).toBeCloseTo(1101 * 0.04 + 0.08, 6);
  });
});
