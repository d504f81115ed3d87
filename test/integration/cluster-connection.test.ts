// Our Redis layer on a real three-master Redis Cluster: every key of a queue shares one slot, the
// client is a Cluster for every way of naming one, and each task/batch script (including the keys
// RECORD_ITEM computes inside Lua for upload-mode subtasks) and MULTI runs there unchanged.

import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { openQueue } from '../../src/tasks/queue.js';
import { connectRedis, createRedis, redisTopology } from '../../src/tasks/redis-connection.js';
import { type RedisClient, TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';
import { fixtureItem as item, fixtureOutput as output } from '../helpers/record-fixtures.js';
import { type LocalRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';

let cluster: LocalRedisCluster;
const opened: RedisClient[] = [];
const track = <T extends RedisClient>(c: T): T => {
  opened.push(c);
  return c;
};

beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  await cluster?.stop();
});

describe('choosing the client', () => {
  it('REDIS_CLUSTER_NODES, a redis+cluster:// URL and a plain URL of a cluster node all give a Cluster', async () => {
    const none: string[] = [];
    const fromList = track(
      createRedis({ REDIS_URL: 'redis://unused:1', REDIS_CLUSTER_NODES: cluster.nodes }),
    );
    const fromScheme = track(
      createRedis({ REDIS_URL: `redis+cluster://${cluster.nodes[1]}`, REDIS_CLUSTER_NODES: none }),
    );
    const detected = track(await connectRedis({ REDIS_URL: cluster.seedUrl, REDIS_CLUSTER_NODES: none }));
    for (const c of [fromList, fromScheme, detected]) {
      expect(c).toBeInstanceOf(Cluster);
      await c.set('{probe}:k', 'v');
      expect(await c.get('{probe}:k')).toBe('v');
    }
  });

  it('a plain URL of a standalone Redis stays a single-node client', async () => {
    const c = track(await connectRedis({ REDIS_URL: testRedisUrl(), REDIS_CLUSTER_NODES: [] }));
    expect(c).toBeInstanceOf(Redis);
    expect(await c.ping()).toBe('PONG');
  });

  it('node lists take host, port and credentials from URLs or bare host:port', () => {
    expect(
      redisTopology({
        REDIS_URL: 'redis://x',
        REDIS_CLUSTER_NODES: ['redis://u:p%40ss@10.0.0.1:7000', 'h2'],
      }),
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'h2', port: 6379 },
      ],
      auth: { username: 'u', password: 'p@ss', tls: false },
    });
    expect(redisTopology({ REDIS_URL: 'rediss+cluster://h:7001', REDIS_CLUSTER_NODES: [] })).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'h', port: 7001 }],
      auth: { tls: true },
    });
    expect(redisTopology({ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: [] }).kind).toBe('single');
  });
});

describe('on a cluster', () => {
  let redis: RedisClient;
  let tasks: TaskStore;
  let batches: BatchStore;
  const prefix = `kr-${uniqueId()}`;
  beforeAll(() => {
    redis = track(createRedis({ REDIS_URL: cluster.seedUrl, REDIS_CLUSTER_NODES: cluster.nodes }));
    tasks = new TaskStore(redis, prefix, 'q');
    batches = new BatchStore(redis, tasks.keys);
  });

  it('every key of a queue, ours and BullMQ’s, hashes to one slot', async () => {
    const queue = openQueue({ QUEUE_PREFIX: prefix, QUEUE_NAME: 'q' }, redis);
    const k = tasks.keys;
    const keys = [
      k.task('t'),
      k.items('t'),
      k.stored('t'),
      k.batch('b'),
      k.batchTasks('b'),
      k.batches(),
      k.events(),
      k.pausedReason(),
      k.inflight(),
      ...['wait', 'active', 'prioritized', 'delayed', 'meta', 'events', 'marker', 'pc', 'some-job-id'].map(
        (s) => queue.toKey(s),
      ),
    ];
    const node = track(new Redis(cluster.seedUrl));
    const slots = new Set(await Promise.all(keys.map((key) => node.cluster('KEYSLOT', key))));
    expect(slots.size).toBe(1);
    await queue.close();
  });

  it('runs a batch task’s whole life: create, submit, record, store, finish with events, seal', async () => {
    const batchId = uniqueId('b');
    await batches.open({ batchId });
    const id = crypto.randomUUID();
    await batches.addTasks(batchId, [{ index: 0, taskUUID: id }]);
    expect(await tasks.create({ taskUUID: id, jobId: id, batchId, mode: 'webhook', expected: 2 })).toBe(true);
    expect(await tasks.markSubmitted(id, batchId, { nextPollAt: 1, deadlineAt: 2 })).toBe(true);
    expect(await tasks.recordItem(id, item(id, 'a'))).toEqual({ kind: 'new', jobId: id, slot: 0 });
    expect(await tasks.recordItem(id, item(id, 'a'))).toEqual({ kind: 'duplicate', jobId: id });
    expect(await tasks.hasNewWork(id, 0)).toBe(true);
    expect(await tasks.markStored(id, output(0))).toEqual({ stored: 1, expected: 2 });
    await tasks.setNextPoll(id, 5);
    expect(await tasks.inflightCount()).toBe(1);
    expect(await batches.seal(batchId)).toEqual({ total: 1, ended: false });
    expect(await tasks.finish(id, batchId, 'completed', '', 0.08, [output(0)])).toBe('batchEnded');
    expect(await tasks.finish(id, batchId, 'failed', 'late')).toBe('already');
    expect(await batches.get(batchId)).toMatchObject({ total: 1, completed: 1, submitted: 1, settled: 1 });
    const events = await redis.xrange(tasks.keys.events(), '-', '+');
    expect(events.map(([, f]) => f[1])).toEqual(['task.completed', 'batch.completed']);
  });

  it('upload-mode subtasks reach their parent through keys computed inside Lua', async () => {
    const parent = crypto.randomUUID();
    const subs = [crypto.randomUUID(), crypto.randomUUID()];
    await tasks.create({
      taskUUID: parent,
      jobId: parent,
      batchId: undefined,
      mode: 'upload',
      expected: 2,
      subtasks: subs,
    });
    expect(await tasks.recordItem(subs[1]!, item(subs[1]!, 'x'))).toEqual({
      kind: 'new',
      jobId: parent,
      slot: 1,
    });
    expect(await tasks.recordError(subs[0]!, { code: 'timeoutProvider', message: 'm' })).toEqual({
      kind: 'new',
      jobId: parent,
    });
    expect((await tasks.receivedItems(parent)).map((r) => r.slot)).toEqual([1]);
    expect((await tasks.get(parent))?.providerError?.code).toBe('timeoutProvider');
  });
});
