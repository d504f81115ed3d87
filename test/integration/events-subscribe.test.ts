// The library's view of completion events on a real pipeline (simulator, worker, webhook server, Redis,
// S3): a typed subscription per batch, exactly one batch.completed, resume after a mid-stream id, and
// waits that resolve whether the end came before or after the call, or time out with a typed error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventWaitTimeoutError } from '../../src/events/event-errors.js';
import { parseStreamEntry, type RelayEvent } from '../../src/events/event-types.js';
import {
  type StreamEntry,
  type SubscribeOptions,
  subscribeEvents,
} from '../../src/events/subscribe-events.js';
import { waitForBatch, waitForTask } from '../../src/events/wait-for-end.js';
import { createProducer } from '../../src/producer/create-producer.js';
import { readBatchStatus } from '../../src/status/read-status.js';
import { createRedis } from '../../src/tasks/redis-connection.js';
import { openRelayState } from '../../src/tasks/relay-state.js';
import { testConfig } from '../helpers/env.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

const task = (i: number) => ({ positivePrompt: `events prompt ${i}`, width: 1024, height: 1024 });
const WAIT_MS = 20_000;

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(() => p.close());

/** A subscription on the pipeline's stream that gives up after WAIT_MS. */
function subscribe(opts: Omit<SubscribeOptions, 'signal'> = {}) {
  return subscribeEvents(p.redis, p.svc.tasks.keys, { ...opts, signal: AbortSignal.timeout(WAIT_MS) });
}

/** Reads a subscription until `until` says stop (inclusive). */
async function collect(it: AsyncIterable<RelayEvent>, until: (ev: RelayEvent, all: RelayEvent[]) => boolean) {
  const out: RelayEvent[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (until(ev, out)) return out;
  }
  throw new Error(`subscription ended after ${out.length} events without the one awaited`);
}

async function streamEventsOf(batchId: string): Promise<RelayEvent[]> {
  const entries = (await p.redis.xrange(p.svc.tasks.keys.events(), '-', '+')) as StreamEntry[];
  return entries
    .map(([id, f]) => parseStreamEntry(id, f))
    .filter((e): e is RelayEvent => e?.batchId === batchId);
}

describe('subscription', () => {
  it('delivers each task end and exactly one batch.completed, only for the batch asked for', async () => {
    const ok = subscribe();
    const a = await p.producer.enqueueBatch([task(1), task(2), task(3)]);
    const evA = await collect(
      subscribe({ from: '0', batchId: a.batchId }),
      (ev) => ev.type === 'batch.completed',
    );
    p.sim.setFaults({ itemError: 1 });
    const b = await p.producer.enqueueBatch([task(4)]);
    const onlyB = subscribe({ from: '0', batchId: b.batchId });
    const evB = await collect(onlyB, (ev) => ev.type === 'batch.completed');
    p.sim.setFaults({ itemError: 0 });

    expect(evA.map((e) => e.type)).toEqual([
      'task.completed',
      'task.completed',
      'task.completed',
      'batch.completed',
    ]);
    expect(new Set(evA.map((e) => ('taskUUID' in e ? e.taskUUID : 'batch'))).size).toBe(4);
    expect(evA[3]).toMatchObject({
      data: { total: 3, completed: 3, failed: 0, cost: expect.closeTo(0.12, 6) },
    });
    for (const e of evA.slice(0, 3))
      expect(e).toMatchObject({ data: { cost: 0.04, outputs: [{ slot: 0 }] } });
    expect(evB.map((e) => e.type)).toEqual(['task.failed', 'batch.completed']);
    expect(evB[0]).toMatchObject({ data: { reason: expect.stringContaining('timeoutProvider') } });
    expect(evB[1]).toMatchObject({ data: { total: 1, completed: 0, failed: 1 } });

    // An unfiltered subscription opened before either batch saw both, in stream order.
    const all = await collect(ok, (_, seen) => seen.filter((e) => e.type === 'batch.completed').length === 2);
    expect(all.map((e) => e.id)).toEqual([...evA, ...evB].map((e) => e.id));
    for (const id of [a.batchId, b.batchId]) {
      expect((await streamEventsOf(id)).filter((e) => e.type === 'batch.completed')).toHaveLength(1);
    }
  });

  it('resuming after a mid-stream id yields exactly the later events', async () => {
    const { batchId } = await p.producer.enqueueBatch([task(5), task(6), task(7), task(8)]);
    const first = await collect(
      subscribe({ from: '0', batchId }),
      (ev, seen) => seen.length === 2 || ev.type === 'batch.completed',
    ); // leaving the loop closes the subscription's connection, as a disconnect would
    const resumed = await collect(
      subscribe({ from: first[1]!.id, batchId }),
      (ev) => ev.type === 'batch.completed',
    );
    const everything = await streamEventsOf(batchId);
    expect(everything).toHaveLength(5);
    expect(resumed.map((e) => e.id)).toEqual(everything.slice(2).map((e) => e.id));
    expect([...first, ...resumed].map((e) => e.id)).toEqual(everything.map((e) => e.id));
  });

  it('an aborted subscription ends its iteration promptly', async () => {
    const ac = new AbortController();
    const sub = subscribeEvents(p.redis, p.svc.tasks.keys, { signal: ac.signal });
    const seen: RelayEvent[] = [];
    const done = (async () => {
      for await (const ev of sub) seen.push(ev);
    })();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    await done;
    expect(seen).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('waitForTask / waitForBatch', () => {
  it('resolve with the final status when the end comes after the call, and at once when it came before', async () => {
    const t = await p.producer.enqueue(task(9));
    const s = await waitForTask(p.svc, t.taskUUID, { timeoutMs: WAIT_MS });
    expect(s).toMatchObject({ taskUUID: t.taskUUID, state: 'completed', outputs: [{ slot: 0 }] });

    const { batchId } = await p.producer.enqueueBatch([task(10), task(11)]);
    const bs = await waitForBatch(p.svc, batchId, { timeoutMs: WAIT_MS });
    expect(bs).toMatchObject({ batchId, state: 'completed', completed: 2 });

    const started = Date.now();
    expect(await waitForBatch(p.svc, batchId, { timeoutMs: WAIT_MS })).toEqual(
      await readBatchStatus(p.svc, batchId),
    );
    expect(await waitForTask(p.svc, t.taskUUID, { timeoutMs: WAIT_MS })).toMatchObject({
      state: 'completed',
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('time out with EventWaitTimeoutError when nothing ends, and reject unknown ids', async () => {
    // A queue nobody works on: the task never ends, the batch is never sealed.
    const config = testConfig();
    const redis = createRedis(config);
    const ctx = openRelayState(config, redis);
    const producer = createProducer({ connection: redis, config });
    try {
      const t = await producer.enqueue(task(12));
      await ctx.batches.open({ batchId: 'never-sealed' });
      const started = Date.now();
      await expect(waitForTask(ctx, t.taskUUID, { timeoutMs: 300 })).rejects.toBeInstanceOf(
        EventWaitTimeoutError,
      );
      await expect(waitForBatch(ctx, 'never-sealed', { timeoutMs: 300 })).rejects.toMatchObject({
        code: 'EVENT_WAIT_TIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(3000);
      await expect(waitForBatch(ctx, 'no-such-batch', { timeoutMs: 300 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    } finally {
      await producer.close();
      await ctx.queue.close();
      redis.disconnect();
    }
  });
});
