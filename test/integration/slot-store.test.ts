// The per-slot scripts on real Redis: a slot retry is recorded once per number and routes the new
// provider UUID's items and errors to the task; a slot's failed fetches are counted to a bound; a
// partial task reopens once, uncounted from its batch, with its stored slots kept.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotRetryProviderUuid, uploadSubtaskUuids } from '../../src/tasks/attempt-uuids.js';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import type { SlotFailure } from '../../src/tasks/types.js';
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

async function submittedTask(expected: number, mode: 'webhook' | 'upload' = 'webhook', batchId?: string) {
  const taskUUID = crypto.randomUUID();
  const subtasks = mode === 'upload' ? uploadSubtaskUuids(taskUUID, expected) : [];
  await tasks.create({ taskUUID, jobId: taskUUID, batchId, mode, expected, subtasks });
  await tasks.markSubmitted(taskUUID, batchId, {
    nextPollAt: Date.now() + 60_000,
    deadlineAt: Date.now() + 600_000,
  });
  return { taskUUID, subtasks };
}

const fetchFailure = (slot: number): SlotFailure => ({
  slot,
  code: 'OUTPUT_FETCH_FAILED',
  message: 'HTTP 503',
  stage: 'fetch',
});

describe('slot retries', () => {
  it('webhook mode: recorded once per number; the new UUID is current, the old one late', async () => {
    const { taskUUID } = await submittedTask(3);
    await tasks.recordItem(taskUUID, item(taskUUID, 'a'));
    await tasks.recordItem(taskUUID, item(taskUUID, 'b'));
    await tasks.recordError(taskUUID, { code: 'timeoutProvider', message: 'x' });
    const retry = slotRetryProviderUuid(taskUUID, 1);
    const r = {
      providerTaskUUID: retry,
      slotAttempt: 1,
      auto: true,
      slots: [2],
      subtasks: [],
      itemsCount: 2,
    };
    expect(await tasks.slots.startRetry(taskUUID, r)).toBe(true);
    expect(await tasks.slots.startRetry(taskUUID, r)).toBe(false);
    expect(await tasks.get(taskUUID)).toMatchObject({
      providerTaskUUID: retry,
      slotAttempt: 1,
      autoRetries: 1,
      attemptResults: 1,
      attemptBase: 2,
      attemptErrors: 0,
      retrySubmit: true,
      providerError: undefined,
      errorsSeen: 1,
    });
    expect(await tasks.slots.retrySlots(taskUUID)).toEqual([2]);
    expect(await tasks.recordItem(taskUUID, item(taskUUID, 'late'))).toMatchObject({ kind: 'late' });
    expect(await tasks.recordItem(retry, item(retry, 'c'))).toMatchObject({ kind: 'new', slot: 2 });
    expect((await tasks.recordError(taskUUID, { code: 'timeoutProvider', message: 'old' })).kind).toBe(
      'late',
    );
  });

  it('upload mode: only the retried slot gets a new subtask, and its error is kept per slot', async () => {
    const { taskUUID, subtasks } = await submittedTask(3, 'upload');
    await tasks.recordError(subtasks[1]!, { code: 'timeoutProvider', message: 'x' });
    expect([...(await tasks.slots.slotErrors(taskUUID)).keys()]).toEqual([1]);
    const fresh = uploadSubtaskUuids(slotRetryProviderUuid(taskUUID, 1), 3);
    const next = subtasks.map((s, i) => (i === 1 ? fresh[1]! : s));
    expect(
      await tasks.slots.startRetry(taskUUID, {
        providerTaskUUID: slotRetryProviderUuid(taskUUID, 1),
        slotAttempt: 1,
        auto: true,
        slots: [1],
        subtasks: next,
        itemsCount: 0,
      }),
    ).toBe(true);
    expect((await tasks.slots.slotErrors(taskUUID)).size).toBe(0);
    expect((await tasks.get(taskUUID))?.subtasks).toEqual(next);
    expect(await tasks.recordItem(fresh[1]!, item(fresh[1]!, 'n'))).toMatchObject({ kind: 'new', slot: 1 });
    expect(await tasks.recordItem(subtasks[1]!, item(subtasks[1]!, 'o'))).toMatchObject({ kind: 'late' });
  });
});

describe('fetch failures', () => {
  it('are counted per slot; below the bound the next try is scheduled, at it the slot fails once', async () => {
    const { taskUUID } = await submittedTask(2);
    const ats = [1000, 2000, 3000];
    expect(await tasks.slots.noteFetchFailure(taskUUID, fetchFailure(1), 3, ats)).toBe(1);
    expect((await tasks.get(taskUUID))?.fetchAt.get(1)).toBe(1000);
    expect(await tasks.slots.noteFetchFailure(taskUUID, fetchFailure(1), 3, ats)).toBe(2);
    expect((await tasks.get(taskUUID))?.fetchAt.get(1)).toBe(2000);
    expect(await tasks.slots.failures(taskUUID)).toEqual([]);
    expect(await tasks.slots.noteFetchFailure(taskUUID, fetchFailure(1), 3, ats)).toBe(3);
    expect(await tasks.slots.failures(taskUUID)).toEqual([fetchFailure(1)]);
  });
});

describe('reopening a partial task', () => {
  it('happens once, keeps stored slots, forgets failures and puts the task back in flight in its batch', async () => {
    const batchId = `b-${uniqueId()}`;
    await batches.open({ batchId });
    const { taskUUID } = await submittedTask(2, 'webhook', batchId);
    await batches.addTasks(batchId, [{ index: 0, taskUUID }]);
    await batches.seal(batchId);
    await tasks.markStored(taskUUID, output(0));
    await tasks.slots.failSlots(taskUUID, [fetchFailure(1)]);
    expect(
      await tasks.finish(taskUUID, batchId, 'partial', 'r', 0.04, [output(0)], Date.now(), [fetchFailure(1)]),
    ).toBe('batchEnded');
    expect(await batches.get(batchId)).toMatchObject({ partial: 1, settled: 1 });
    const times = { nextPollAt: Date.now() + 1000, deadlineAt: Date.now() + 60_000 };
    expect(await tasks.slots.reopenPartial(taskUUID, batchId, times)).toBe(true);
    expect(await tasks.slots.reopenPartial(taskUUID, batchId, times)).toBe(false);
    expect(await tasks.get(taskUUID)).toMatchObject({
      state: 'submitted',
      needsSlotRetry: true,
      reason: undefined,
    });
    expect(await tasks.slots.failures(taskUUID)).toEqual([]);
    expect((await tasks.storedOutputs(taskUUID)).map((o) => o.slot)).toEqual([0]);
    const b = await batches.get(batchId);
    expect(b).toMatchObject({ partial: 0, settled: 0, submitted: 1, finishedAt: undefined });
    expect(await redis.ttl(tasks.keys.stored(taskUUID))).toBe(-1);
  });
});
