// Redis that forgets: a private redis-server without persistence is restarted empty in the middle of
// a batch. Every process sharing it notices (epoch key gone): the worker stops taking work, one
// relay.data_lost event is appended for the loss, the metric counts it and one error line says so.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { parseStreamEntry } from '../../src/events/event-types.js';
import { subscribeEvents } from '../../src/events/subscribe-events.js';
import { waitForBatch } from '../../src/events/wait-for-end.js';
import { isMissingKeyError } from '../../src/service/data-loss-guard.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

const DEADLINE_MS = 30_000;

let p: Pipeline | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  await p?.close();
  await redis?.stop();
  p = undefined;
  redis = undefined;
});

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function captureLogs(): { lines: () => Record<string, unknown>[]; logger: pino.Logger } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      out.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level: 'warn' }, stream),
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const task = (i: number) => ({ positivePrompt: `data loss prompt ${i}`, width: 1024, height: 1024 });

describe('Redis data loss', () => {
  it('Redis restarted empty mid-batch: worker paused, one relay.data_lost, metric and one error line', async () => {
    redis = await startRedis({ aof: false });
    const logs = captureLogs();
    p = await startPipeline({
      env: { REDIS_URL: redis.url, EPOCH_CHECK_MS: '100' },
      sim: { latency: { minMs: 300, maxMs: 600 } },
      logger: logs.logger,
    });
    const worker = p.workerSvc!;
    const { batchId } = await p.producer.enqueueBatch(Array.from({ length: 30 }, (_, i) => task(i)));
    await until(async () => (await p!.svc.batches.get(batchId))?.completed !== undefined, 'batch record');
    await until(() => p!.sim.results().length >= 3, 'the batch under way');

    const waiting = waitForBatch(p.svc, batchId, { timeoutMs: DEADLINE_MS }).catch((e: unknown) => e);
    // The waiter is subscribed once its connection blocks in XREAD.
    await until(
      async () => /cmd=xread/.test(String(await p!.redis.client('LIST'))),
      'the waiter to subscribe',
    );
    await redis.restart(); // SIGKILL, started again on the same port: no AOF, so empty

    await until(() => worker.dataLoss.lost && p!.svc.dataLoss.lost, 'both processes to notice');
    expect(worker.worker!.isPaused(), 'the worker takes no more jobs').toBe(true);
    expect((await worker.metrics.dataLost.get()).values[0]?.value).toBe(1);
    expect((await p.svc.metrics.dataLost.get()).values[0]?.value).toBe(1);

    const entries = (await p.redis.xrange(worker.tasks.keys.events(), '-', '+')).map(([id, f]) =>
      parseStreamEntry(id, f),
    );
    const lost = entries.filter((e) => e?.type === 'relay.data_lost');
    expect(lost, 'one event per loss, however many processes noticed').toHaveLength(1);
    expect(lost[0]).toMatchObject({
      type: 'relay.data_lost',
      data: { previousEpoch: worker.dataLoss.epoch, detectedBy: expect.stringMatching(/:\d+$/) },
    });
    const ev = lost[0];
    if (ev?.type !== 'relay.data_lost') throw new Error('no relay.data_lost event');
    expect(await p.redis.get(worker.tasks.keys.epoch()), 'the new epoch is in force').toBe(ev.data.epoch);

    // A subscriber following one batch hears of the loss too.
    const ac = new AbortController();
    const sub = subscribeEvents(p.redis, worker.tasks.keys, { from: '0', batchId, signal: ac.signal });
    const first = await sub.next();
    ac.abort();
    expect(first.value, 'a batch subscription receives relay.data_lost').toMatchObject({
      type: 'relay.data_lost',
    });

    const waited = await waiting;
    expect(waited, 'a waiter for the vanished batch is told').toBeInstanceOf(NotFoundError);
    expect((waited as Error).message).toBe(`batch ${batchId} (Redis lost its data) not found`);

    const errors = logs
      .lines()
      .filter((l) => l.level === 50 && String(l.msg).startsWith('Redis lost its data'));
    expect(errors, 'one error line per process').toHaveLength(2);
  });

  it('FLUSHALL is noticed the same way, at once on the next check', async () => {
    redis = await startRedis({ aof: false });
    p = await startPipeline({ env: { REDIS_URL: redis.url, EPOCH_CHECK_MS: '100' } });
    const worker = p.workerSvc!;
    expect(worker.dataLoss.lost).toBe(false);
    expect(await p.redis.get(worker.tasks.keys.epoch())).toBe(worker.dataLoss.epoch);
    await p.redis.flushall();
    await worker.dataLoss.check();
    expect(worker.dataLoss.lost).toBe(true);
    expect(worker.worker!.isPaused()).toBe(true);
  });

  it('an intact epoch is not a loss, and processes on one Redis share one epoch', async () => {
    redis = await startRedis({ aof: false });
    p = await startPipeline({ env: { REDIS_URL: redis.url, EPOCH_CHECK_MS: '100' } });
    expect(p.svc.dataLoss.epoch).toBe(p.workerSvc!.dataLoss.epoch);
    await p.workerSvc!.dataLoss.check();
    expect(p.workerSvc!.dataLoss.lost).toBe(false);
    expect(p.workerSvc!.worker!.isPaused()).toBe(false);
  });

  it('BullMQ’s missing-key errors trigger a check', () => {
    expect(isMissingKeyError(new Error('Missing key for job 42. moveToFinished'))).toBe(true);
    expect(isMissingKeyError(new Error('Connection is closed.'))).toBe(false);
  });
});
