import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';
import { fixtureItem as item, fixtureOutput as output } from '../helpers/record-fixtures.js';

let redis: Redis;
let tasks: TaskStore;
let batches: BatchStore;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  tasks = new TaskStore(redis, `kr-${uniqueId()}`, 'q');
  batches = new BatchStore(redis, tasks.keys);
});
afterAll(() => redis.quit());

async function newTask(expected = 2, batchId?: string) {
  const taskUUID = crypto.randomUUID();
  await tasks.create({ taskUUID, jobId: taskUUID, batchId, mode: 'webhook', expected });
  return taskUUID;
}

describe('task record', () => {
  it('creating twice keeps the first record', async () => {
    const id = await newTask(2);
    expect(
      await tasks.create({ taskUUID: id, jobId: 'other', batchId: undefined, mode: 'upload', expected: 5 }),
    ).toBe(false);
    expect(await tasks.get(id)).toMatchObject({
      jobId: id,
      mode: 'webhook',
      expected: 2,
      state: 'submitting',
    });
  });

  it('records an item once per imageUUID and gives each new one its own slot', async () => {
    const id = await newTask(2);
    expect(await tasks.recordItem(id, item(id, 'a'))).toEqual({ kind: 'new', jobId: id, slot: 0 });
    expect(await tasks.recordItem(id, item(id, 'a'))).toEqual({ kind: 'duplicate', jobId: id });
    expect(await tasks.recordItem(id, item(id, 'b'))).toEqual({ kind: 'new', jobId: id, slot: 1 });
    expect(await tasks.recordItem(id, item(id, 'c'))).toEqual({ kind: 'extra', jobId: id });
    const received = await tasks.receivedItems(id);
    expect(received.map((r) => [r.slot, r.item.imageUUID])).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
  });

  it('concurrent deliveries of the same item record it exactly once', async () => {
    const id = await newTask(1);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => tasks.recordItem(id, item(id, 'same'))),
    );
    expect(outcomes.filter((o) => o.kind === 'new')).toHaveLength(1);
  });

  it('an unknown task records nothing', async () => {
    const ghost = crypto.randomUUID();
    expect(await tasks.recordItem(ghost, item(ghost, 'a'))).toEqual({ kind: 'unknown' });
    expect(await redis.exists(tasks.keys.items(ghost))).toBe(0);
  });

  it('an item for an ended task is late and changes nothing', async () => {
    const id = await newTask(1);
    await tasks.finish(id, undefined, 'failed', 'x');
    expect(await tasks.recordItem(id, item(id, 'a'))).toEqual({ kind: 'late', jobId: id });
    expect(await tasks.receivedItems(id)).toEqual([]);
  });

  it('an upload-mode subtask records into its parent at its fixed slot', async () => {
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
    expect(await tasks.recordItem(subs[1]!, item(subs[1]!, 'z'))).toEqual({
      kind: 'new',
      jobId: parent,
      slot: 1,
    });
    expect((await tasks.receivedItems(parent))[0]).toMatchObject({ slot: 1 });
  });

  it('stores each slot once and reports progress toward the expected count', async () => {
    const id = await newTask(2);
    expect(await tasks.markStored(id, output(0))).toEqual({ stored: 1, expected: 2 });
    expect(await tasks.markStored(id, { ...output(0), key: 'other' })).toEqual({ stored: 1, expected: 2 });
    expect(await tasks.markStored(id, output(1))).toEqual({ stored: 2, expected: 2 });
    expect((await tasks.storedOutputs(id)).map((o) => o.key)).toEqual(['k/0', 'k/1']);
  });

  it('the first provider error is kept as the reason; every error body counts as a signal', async () => {
    const id = await newTask(1);
    expect((await tasks.recordError(id, { code: 'timeoutProvider', message: 'a' })).kind).toBe('new');
    expect((await tasks.recordError(id, { code: 'other', message: 'b' })).kind).toBe('new');
    const rec = await tasks.get(id);
    expect(rec?.providerError).toEqual({ code: 'timeoutProvider', message: 'a' });
    expect(rec?.errorSignals).toBe(2);
    expect(await tasks.hasNewWork(id, 0)).toBe(true);
    await tasks.slots.markErrorsSeen(id, 2);
    expect(await tasks.hasNewWork(id, 0)).toBe(false);
  });

  it('a task ends once and is counted in its batch once; the batch ends with its last task', async () => {
    const batchId = uniqueId('b');
    await batches.open({ batchId });
    const a = await newTask(1, batchId);
    const b = await newTask(1, batchId);
    await batches.addTasks(batchId, [
      { index: 0, taskUUID: a },
      { index: 1, taskUUID: b },
    ]);
    expect(await batches.seal(batchId)).toEqual({ total: 2, ended: false });
    expect(await tasks.finish(a, batchId, 'completed', '', 0.04)).toBe('ended');
    expect(await tasks.finish(a, batchId, 'completed', '', 0.04)).toBe('already');
    expect(await tasks.finish(b, batchId, 'failed', 'boom')).toBe('batchEnded');
    expect(await redis.ttl(tasks.keys.task(b))).toBeGreaterThan(0); // ended records expire
    expect(await batches.get(batchId)).toMatchObject({ total: 2, completed: 1, failed: 1, cost: 0.04 });
    expect((await batches.get(batchId))?.finishedAt).toBeTypeOf('number');
    const events = await redis.xrange(tasks.keys.events(), '-', '+');
    const mine = events.map(([, f]) => f).filter((f) => f.includes(batchId));
    expect(mine.map((f) => f[1])).toEqual(['task.completed', 'task.failed', 'batch.completed']);
    expect(JSON.parse(mine[2]![9]!)).toMatchObject({ total: 2, completed: 1, failed: 1, cost: 0.04 });
  });

  it('a batch whose tasks all ended while it was still enqueuing ends when sealed', async () => {
    const batchId = uniqueId('b');
    await batches.open({ batchId });
    const a = await newTask(1, batchId);
    await batches.addTasks(batchId, [{ index: 0, taskUUID: a }]);
    expect(await tasks.finish(a, batchId, 'completed')).toBe('ended');
    expect(await batches.seal(batchId)).toEqual({ total: 1, ended: true });
    const events = await redis.xrange(tasks.keys.events(), '-', '+');
    expect(events.filter(([, f]) => f[1] === 'batch.completed' && f[5] === batchId)).toHaveLength(1);
  });

  it('parking sees new work that arrived after the worker looked', async () => {
    const id = await newTask(2);
    expect(await tasks.hasNewWork(id, 0)).toBe(false);
    await tasks.recordItem(id, item(id, 'a'));
    expect(await tasks.hasNewWork(id, 0)).toBe(true);
    expect(await tasks.hasNewWork(id, 1)).toBe(false);
    await tasks.recordError(id, { code: 'x', message: 'y' });
    expect(await tasks.hasNewWork(id, 1)).toBe(true);
  });

  it('a webhook item logs its arrival in the same script and says whether the job is parked', async () => {
    const id = await newTask(2);
    const first = await tasks.recordItem(id, item(id, 'a'), 'webhook');
    expect(first).toEqual({ kind: 'new', jobId: id, slot: 0, parked: false });
    await redis.zadd(tasks.keys.delayed, Date.now() + 60_000, id); // the job parks
    expect(await tasks.recordItem(id, item(id, 'b'), 'poll')).toEqual({
      kind: 'new',
      jobId: id,
      slot: 1,
      parked: true,
    });
    // A duplicate logs nothing and wakes nothing.
    expect(await tasks.recordItem(id, item(id, 'a'), 'webhook')).toEqual({ kind: 'duplicate', jobId: id });
    const arrivals = await tasks.arrivals(id);
    expect(arrivals.map((a) => [a.slot, a.via])).toEqual([
      [0, 'webhook'],
      [1, 'poll'],
    ]);
  });

  it('one snapshot reads the record, slots and the batch flags together', async () => {
    const batchId = `b-${uniqueId()}`;
    const id = await newTask(2, batchId);
    await tasks.recordItem(id, item(id, 'a'));
    await tasks.markStored(id, output(0));
    const snap = await tasks.snapshot(id, batchId);
    expect(snap.rec).toMatchObject({ taskUUID: id, state: 'submitting', expected: 2 });
    expect(snap.progress.items.map((i) => i.slot)).toEqual([0]);
    expect(snap.progress.stored.map((o) => o.slot)).toEqual([0]);
    expect(snap.progress.failures).toEqual([]);
    expect(snap.batch).toEqual({ cancelled: false, hasBudget: false });
    await redis.hset(tasks.keys.batch(batchId), 'budgetUsd', '5', 'cancelRequested', '1');
    expect((await tasks.snapshot(id, batchId)).batch).toEqual({ cancelled: true, hasBudget: true });
    expect((await tasks.snapshot(crypto.randomUUID())).rec).toBeNull();
  });

  it('storing the last output ends the task in the same script, once, with its event', async () => {
    const batchId = uniqueId('b');
    await batches.open({ batchId });
    const id = await newTask(2, batchId);
    await batches.addTasks(batchId, [{ index: 0, taskUUID: id }]);
    await batches.seal(batchId);
    const first = { ...output(0), cost: 0.01 };
    const second = { ...output(1), cost: 0.02 };
    // Not the last output: stored, the task goes on.
    expect(await tasks.storeAndFinish(id, batchId, first, [first])).toEqual({ stored: 1, expected: 2 });
    expect((await tasks.get(id))?.state).toBe('submitting');
    // A slot stored before does not end the task (the caller's finish does).
    expect(await tasks.storeAndFinish(id, batchId, first, [first])).toEqual({ stored: 1, expected: 2 });
    expect(await tasks.storeAndFinish(id, batchId, second, [first, second])).toEqual({
      stored: 2,
      expected: 2,
      finished: 'batchEnded',
    });
    expect(await tasks.get(id)).toMatchObject({ state: 'completed' });
    expect(await tasks.storeAndFinish(id, batchId, second, [first, second])).toBeNull();
    expect(await tasks.finish(id, batchId, 'completed')).toBe('already');
    const events = await redis.xrange(tasks.keys.events(), '-', '+');
    const mine = events.map(([, f]) => f).filter((f) => f.includes(batchId));
    expect(mine.map((f) => f[1])).toEqual(['task.completed', 'batch.completed']);
    expect(JSON.parse(mine[0]![9]!)).toMatchObject({ cost: 0.03, outputs: [{ slot: 0 }, { slot: 1 }] });
  });

  it('the submitted transition says whether a result beat it', async () => {
    const times = { nextPollAt: Date.now() + 1000, deadlineAt: Date.now() + 60_000 };
    const quiet = await newTask(1);
    expect(await tasks.submitted(quiet, undefined, times)).toEqual({ moved: true, anythingRecorded: false });
    expect(await tasks.submitted(quiet, undefined, times)).toEqual({ moved: false, anythingRecorded: false });
    const early = await newTask(1);
    await tasks.recordItem(early, item(early, 'a'));
    expect(await tasks.submitted(early, undefined, times)).toEqual({ moved: true, anythingRecorded: true });
    const failed = await newTask(1);
    await tasks.recordError(failed, { code: 'x', message: 'y' });
    expect(await tasks.submitted(failed, undefined, times)).toEqual({ moved: true, anythingRecorded: true });
  });
});
