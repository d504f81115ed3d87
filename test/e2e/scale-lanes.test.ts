// Priority lanes: a single (interactive) task enqueued behind a large (bulk) batch runs ahead of it,
// through every step (submit, park, wake, store), on a worker slowed by its submit rate limit.
// Assertions are on counts at the moment the interactive task ends, never on wall-clock times.
import { afterEach, describe, expect, it } from 'vitest';
import { BULK_PRIORITY, RESULT_PRIORITY } from '../../src/tasks/job-options.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

const BULK_TASKS = 1000;
/** The FIFO baseline needs only enough tasks to show the wait; it runs them all, so keep it small. */
const BASELINE_TASKS = 100;
/** Jobs a second the worker may start: 1,000 bulk submits take at least 10 s. */
const RATE_PER_SECOND = '100';

const task = (i: number) => ({ positivePrompt: `lane prompt ${i}`, width: 1024, height: 1024 });

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

function startSlowPipeline() {
  return startPipeline({
    sim: { latency: { minMs: 100, maxMs: 200 } },
    env: { WORKER_CONCURRENCY: '4', SUBMIT_RATE_MAX: RATE_PER_SECOND, SUBMIT_RATE_DURATION_MS: '1000' },
  });
}

async function waitCompleted(pl: Pipeline, taskUUID: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pl.svc.tasks.get(taskUUID))?.state !== 'completed') {
    if (Date.now() > deadline) throw new Error(`task ${taskUUID} not completed in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A task of the batch that the provider has accepted (it has parked at least once since). */
async function firstAcceptedTask(pl: Pipeline, batchId: string): Promise<string> {
  for (const uuid of await pl.svc.batches.taskUUIDs(batchId, 0, BULK_TASKS)) {
    if ((await pl.svc.tasks.get(uuid))?.submittedAt !== undefined) return uuid;
  }
  throw new Error('no bulk task was accepted by the provider');
}

describe('priority lanes', () => {
  it('an interactive task enqueued after a 1,000-task bulk batch completes before most of the batch is even submitted', async () => {
    p = await startSlowPipeline();
    const bulk = await p.producer.enqueueBatch(Array.from({ length: BULK_TASKS }, (_, i) => task(i)));
    const interactive = await p.producer.enqueue(task(-1));
    await waitCompleted(p, interactive.taskUUID);
    const batch = await p.svc.batches.get(bulk.batchId);
    expect(batch?.total).toBe(BULK_TASKS);
    expect(batch!.submitted, 'most bulk tasks still waiting to be submitted').toBeLessThan(BULK_TASKS / 2);
    expect(batch!.completed).toBeLessThan(BULK_TASKS / 2);
    // The lanes survive parking and waking: a bulk job still waiting to be submitted keeps the bulk
    // priority; one the provider accepted moved up to the results priority, ahead of fresh bulk work
    // but still behind every interactive task (which has none).
    const [waiting] = await p.svc.queue.getJobs(['prioritized'], 0, 0);
    expect(waiting?.priority).toBe(BULK_PRIORITY);
    const accepted = await firstAcceptedTask(p, bulk.batchId);
    expect((await p.svc.queue.getJob(accepted))?.priority).toBe(RESULT_PRIORITY);
    expect(RESULT_PRIORITY).toBeGreaterThan(0);
    expect((await p.svc.queue.getJob(interactive.taskUUID))?.priority ?? 0).toBe(0);
  });

  it('without lanes (the task put in the bulk lane) it waits behind the whole batch', async () => {
    p = await startSlowPipeline();
    const bulk = await p.producer.enqueueBatch(Array.from({ length: BASELINE_TASKS }, (_, i) => task(i)));
    const late = await p.producer.enqueue(task(-1), { lane: 'bulk' });
    await waitCompleted(p, late.taskUUID);
    const batch = await p.svc.batches.get(bulk.batchId);
    expect(batch?.submitted, 'every bulk task was submitted first').toBe(BASELINE_TASKS);
  });
});
