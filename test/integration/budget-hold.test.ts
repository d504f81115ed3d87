// Batch budgets on a real pipeline: a batch over its budget holds its queued tasks (parked, no attempt
// used, nothing failed), says so once in the stream and in its record; raising the budget resumes it.
import { afterEach, describe, expect, it } from 'vitest';
import { raiseBudget } from '../../src/events/budget.js';
import { parseStreamEntry, type RelayEvent } from '../../src/events/event-types.js';
import { lastEventId, type StreamEntry, subscribeEvents } from '../../src/events/subscribe-events.js';
import { waitForBatch } from '../../src/events/wait-for-end.js';
import { readBatchStatus } from '../../src/status/read-status.js';
import { checkInvariants, type Pipeline, startPipeline } from '../helpers/pipeline.js';

const task = (i: number) => ({ positivePrompt: `budget prompt ${i}`, width: 1024, height: 1024 });
const WAIT_MS = 20_000;
/** bfl:3@1 is estimated at $0.04 an image, and the simulator charges the same. */
const PER_TASK = 0.04;

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function eventsOf(pl: Pipeline, batchId: string): Promise<RelayEvent[]> {
  const entries = (await pl.redis.xrange(pl.svc.tasks.keys.events(), '-', '+')) as StreamEntry[];
  return entries
    .map(([id, f]) => parseStreamEntry(id, f))
    .filter((e): e is RelayEvent => e?.batchId === batchId);
}

describe('batch budgets', () => {
  it('a batch over its budget holds its queued tasks once, fails nothing, and completes when the budget is raised', async () => {
    p = await startPipeline();
    const pl = p;
    const from = await lastEventId(pl.redis, pl.svc.tasks.keys);
    // Room for two tasks (0.08) but not three (0.12), with 16 workers racing for the six tasks.
    const { batchId } = await pl.producer.enqueueBatch([1, 2, 3, 4, 5, 6].map(task), { budgetUsd: 0.09 });
    const exhausted = subscribeEvents(pl.redis, pl.svc.tasks.keys, {
      from,
      batchId,
      types: ['batch.budget_exhausted'],
      signal: AbortSignal.timeout(WAIT_MS),
    });
    const first = (await exhausted.next()).value;
    await exhausted.return();
    expect(first).toMatchObject({
      type: 'batch.budget_exhausted',
      data: { budgetUsd: 0.09, requested: PER_TASK },
    });
    expect(first?.type === 'batch.budget_exhausted' && first.data.spent + first.data.committed).toBeCloseTo(
      2 * PER_TASK,
      6,
    );

    await until(
      'the admitted tasks to finish',
      async () => (await readBatchStatus(pl.svc, batchId))?.completed === 2,
    );
    const held = await readBatchStatus(pl.svc, batchId);
    expect(held).toMatchObject({ state: 'running', completed: 2, failed: 0, queued: 4, inFlight: 0 });
    expect(await pl.svc.batches.get(batchId)).toMatchObject({ held: true, heldAt: expect.any(Number) });
    const parked = (await pl.svc.batches.taskUUIDs(batchId)).map((id) => pl.svc.queue.getJob(id));
    const jobs = await Promise.all(parked);
    const waiting = jobs.filter((j) => j && !j.finishedOn);
    expect(waiting).toHaveLength(4);
    for (const j of waiting) {
      expect(await j!.getState()).toBe('delayed');
      expect(j!.attemptsMade).toBe(0);
    }

    // Still too small: one more task fits (0.08 + 0.04 ≤ 0.13), then the batch holds again.
    expect(await raiseBudget(pl.svc, batchId, 0.13)).toMatchObject({ resumed: true, woken: 4 });
    await until('the second hold', async () => {
      const b = await pl.svc.batches.get(batchId);
      return b?.held === true && b.completed === 3;
    });

    // Not every held task may be parked yet at this instant; one still active wakes itself (budget-gate).
    expect(await raiseBudget(pl.svc, batchId, 1)).toMatchObject({ resumed: true });
    const done = await waitForBatch(pl.svc, batchId, { timeoutMs: WAIT_MS });
    expect(done).toMatchObject({ state: 'completed', completed: 6, failed: 0, budgetUsd: 1 });
    expect(done.cost).toBeCloseTo(6 * PER_TASK, 6);
    expect(await pl.svc.batches.get(batchId)).toMatchObject({ held: false });

    const types = (await eventsOf(pl, batchId)).map((e) => e.type).filter((t) => t.startsWith('batch.'));
    expect(types).toEqual([
      'batch.budget_exhausted',
      'batch.resumed',
      'batch.budget_exhausted',
      'batch.resumed',
      'batch.completed',
    ]);
    await checkInvariants(pl, batchId);
    expect(pl.sim.stats().tasksAccepted).toBe(6);
  });

  it('raising the budget of a batch that is not held changes the budget and wakes nothing', async () => {
    p = await startPipeline();
    const { batchId } = await p.producer.enqueueBatch([task(1)], { budgetUsd: 1 });
    await waitForBatch(p.svc, batchId, { timeoutMs: WAIT_MS });
    expect(await raiseBudget(p.svc, batchId, 2)).toEqual({ batchId, budgetUsd: 2, resumed: false, woken: 0 });
    expect((await eventsOf(p, batchId)).map((e) => e.type)).toEqual(['task.completed', 'batch.completed']);
    await expect(raiseBudget(p.svc, 'no-such-batch', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(raiseBudget(p.svc, batchId, -1)).rejects.toMatchObject({ code: 'BUDGET_INVALID' });
  });
});
