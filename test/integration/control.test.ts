// Operator actions on a real pipeline: retrying failed tasks as new provider attempts, and cancelling
// a batch with tasks both queued and at the provider.
import { afterEach, describe, expect, it } from 'vitest';
import { cancelBatch } from '../../src/control/cancel-batch.js';
import { retryFailedTasks } from '../../src/control/retry-failed.js';
import { readBatchTasks } from '../../src/status/read-status.js';
import { checkInvariants, type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

const task = (i: number, extra: Record<string, unknown> = {}) => ({
  positivePrompt: `control test ${i}`,
  width: 1024,
  height: 1024,
  ...extra,
});

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('retry failed tasks', () => {
  it.each(['webhook', 'upload'])(
    'failed tasks run again as new provider tasks and complete (%s mode)',
    async (mode) => {
      p = await startPipeline({ sim: { faults: { itemError: 1 } }, env: { DELIVERY_MODE: mode } });
      const batch = await p.producer.enqueueBatch([task(1), task(2, { numberResults: 2 }), task(3)]);
      expect(await waitForBatch(p, batch.batchId)).toMatchObject({
        state: 'completed_with_failures',
        failed: 3,
      });
      p.sim.setFaults({ itemError: 0 });
      const accepted = p.sim.stats().tasksAccepted;
      // Failed tasks run again whole: 1 + 2 + 1 images billed again.
      expect(await retryFailedTasks(p.svc, batch.batchId)).toEqual({
        retried: 3,
        billedImages: 4,
        unavailable: [],
      });
      const s = await waitForBatch(p, batch.batchId);
      expect(s).toMatchObject({ state: 'completed', completed: 3, failed: 0, inFlight: 0 });
      // New provider UUIDs were accepted (a reused one would have been a conflict, not a new task).
      expect(p.sim.stats().tasksAccepted).toBeGreaterThan(accepted);
      await checkInvariants(p, batch.batchId);
    },
  );

  it('a completed batch has nothing to retry', async () => {
    p = await startPipeline();
    const batch = await p.producer.enqueueBatch([task(1)]);
    await waitForBatch(p, batch.batchId);
    expect(await retryFailedTasks(p.svc, batch.batchId)).toEqual({
      retried: 0,
      billedImages: 0,
      unavailable: [],
    });
  });
});

describe('cancel a batch', () => {
  it('removes queued tasks, marks in-flight ones and discards their late results', async () => {
    p = await startPipeline({
      sim: { latency: { minMs: 1500, maxMs: 2500 } },
      env: { SUBMIT_RATE_MAX: '4', SUBMIT_RATE_DURATION_MS: '1000', WORKER_CONCURRENCY: '2' },
    });
    const batch = await p.producer.enqueueBatch(Array.from({ length: 30 }, (_, i) => task(i)));
    const deadline = Date.now() + 10_000;
    while (p.sim.stats().tasksAccepted < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const r = await cancelBatch(p.svc, batch.batchId);
    expect(r.removed).toBeGreaterThan(0);
    expect(r.cancelledInFlight).toBeGreaterThan(0);
    const s = await waitForBatch(p, batch.batchId);
    expect(s.state).toBe('cancelled');
    expect(s.completed + s.cancelled).toBe(30);
    await p.sim.idle(); // every late webhook has been delivered and answered
    const tasks = await readBatchTasks(p.svc, batch.batchId, 0, 100);
    const cancelled = tasks.filter((t) => t.state === 'cancelled');
    for (const t of cancelled) expect(t.outputs).toEqual([]);
    const listed = await p.svc.store.list(p.config.S3_KEY_PREFIX);
    expect(listed).toHaveLength(tasks.filter((t) => t.state === 'completed').length);
    expect(p.sim.stats().tasksAccepted).toBeLessThan(30);
  });
});
