// A sporadic 503 on submit is retried for that task alone; a burst of them slows the whole queue down.
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayMetrics } from '../../src/metrics/relay-metrics.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

const task = (i: number) => ({ positivePrompt: `overload test ${i}`, width: 1024, height: 1024 });

async function backoffs(metrics: RelayMetrics, scope: 'queue' | 'task'): Promise<number> {
  const m = await metrics.providerBackoffs.get();
  return m.values.find((v) => v.labels.scope === scope)?.value ?? 0;
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('503 on submit', () => {
  it('a single 503 is retried for its task; the queue is not slowed', async () => {
    p = await startPipeline({ sim: { faults: { submit503: 1 } } });
    const metrics = (p.workerSvc ?? p.svc).metrics;
    const batch = await p.producer.enqueueBatch([task(1)]);
    await until(async () => (await backoffs(metrics, 'task')) >= 1, 10_000, 'a task-scope backoff');
    p.sim.setFaults({ submit503: 0 }); // before the task's retry (≥ 500 ms away)
    expect(await waitForBatch(p, batch.batchId)).toMatchObject({ completed: 1 });
    expect(await backoffs(metrics, 'queue')).toBe(0);
  });

  it('a burst of 503s slows the whole queue down, and the batch still completes', async () => {
    p = await startPipeline({ sim: { faults: { submit503: 1 } } });
    const metrics = (p.workerSvc ?? p.svc).metrics;
    const batch = await p.producer.enqueueBatch(Array.from({ length: 8 }, (_, i) => task(i)));
    await until(async () => (await backoffs(metrics, 'queue')) >= 1, 15_000, 'a queue-scope backoff');
    p.sim.setFaults({ submit503: 0 });
    expect(await waitForBatch(p, batch.batchId)).toMatchObject({ completed: 8, failed: 0 });
  });
});
