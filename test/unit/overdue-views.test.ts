// What `status` and the dashboard show about the tail: overdue cards say how long and why; the queue banner shows
// the share of results recent webhooks lost and whether new tasks are polled first.
import { describe, expect, it } from 'vitest';
import { taskHeadline } from '../../src/cli/commands/status.js';
import type { DashboardTask } from '../../src/dashboard/find-batch-tasks.js';
import { renderQueueBanner } from '../../src/dashboard/render-layout.js';
import { renderTaskCard } from '../../src/dashboard/render-task-cards.js';
import { describeOverdue } from '../../src/status/overdue-stage.js';
import type { ReceivedItem, TaskRecord } from '../../src/tasks/types.js';

const overdueTask: DashboardTask = {
  taskUUID: '6f0c1d9e-7a8b-4c3d-9e2f-1a2b3c4d5e6f',
  batchId: 'b',
  state: 'submitted',
  jobState: 'delayed',
  positivePrompt: 'a lighthouse',
  width: 1024,
  height: 1024,
  seed: null,
  expected: 1,
  enqueuedAt: 1_764_000_000_000,
  submittedAt: 1_764_000_000_100,
  finishedAt: null,
  overdue: true,
  overdueForMs: 12_500,
  waitingFor: 'polling',
  reason: null,
  providerError: null,
  cost: 0,
  outputs: [],
  failedSlots: [],
  dueAt: 1_764_000_006_000,
};

describe('dashboard tail views', () => {
  it('an overdue card says for how long and what the task waits for', () => {
    const html = renderTaskCard(overdueTask).toString();
    expect(html).toContain('overdue 12.5 s · polling');
  });

  it('`status` prints an overdue task with how long and why', () => {
    expect(taskHeadline(overdueTask)).toBe(`${overdueTask.taskUUID} submitted — overdue 13s (polling)`);
  });

  it('the queue banner shows the webhook loss share and poll-first', () => {
    const banner = (webhooks: { mode: 'webhook-first' | 'poll-first'; lossRatio: number | null }) =>
      renderQueueBanner({ paused: false, pausedReason: null, overdue: 3, counts: {}, webhooks }).toString();
    expect(banner({ mode: 'poll-first', lossRatio: 0.8 })).toMatch(
      /webhooks lost <span data-queue="webhookLoss">80%<\/span><span data-queue="pollFirst"> \(poll-first\)<\/span>/,
    );
    expect(banner({ mode: 'webhook-first', lossRatio: null })).toMatch(
      /<span data-queue="webhookLoss">—<\/span><span data-queue="pollFirst"><\/span>/,
    );
  });
});

describe('why an overdue task waits', () => {
  const rec = (polls: number, mode: 'webhook' | 'upload' = 'webhook'): TaskRecord => ({
    taskUUID: 't',
    jobId: 't',
    batchId: undefined,
    state: 'submitted',
    mode,
    expected: 2,
    createdAt: 0,
    submittedAt: 100,
    finishedAt: undefined,
    deadlineAt: 1_000_000,
    dueAt: 5000,
    nextPollAt: 5000,
    polls,
    reason: undefined,
    providerError: undefined,
    subtasks: [],
    attempt: 0,
    providerTaskUUID: 't',
    slotAttempt: 0,
    autoRetries: 0,
    attemptResults: 2,
    attemptBase: 0,
    attemptErrors: 0,
    errorSignals: 0,
    errorsSeen: 0,
    retrySubmit: false,
    needsSlotRetry: false,
    fetchAt: new Map(),
  });
  const item = (slot: number, inline = false): ReceivedItem => ({
    slot,
    receivedAt: 1000,
    item: {
      taskType: 'imageInference',
      taskUUID: 't',
      imageUUID: `i${slot}`,
      ...(inline ? { imageBase64Data: 'AAAA' } : { imageURL: `https://x/i${slot}.jpg` }),
    } as ReceivedItem['item'],
  });
  const received = (items: ReceivedItem[]) => ({ receivedItems: async () => items });

  it.each([
    ['waiting for webhook', rec(0), [item(0)], 0],
    ['polling', rec(2), [item(0)], 0],
    ['fetching', rec(0), [item(0), item(1)], 1],
    ['storing', rec(0), [item(0, true), item(1, true)], 0],
    ['storing', rec(1, 'upload'), [item(0), item(1)], 1],
  ] as const)('%s', async (stage, r, items, stored) => {
    expect(await describeOverdue(received([...items]), r, stored, 7000)).toEqual({
      overdueForMs: 2000,
      waitingFor: stage,
    });
  });
});
