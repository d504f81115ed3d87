// Status of a task or a batch as the CLI (`status --json`) and the dashboard show it. The JSON shapes
// here are a public interface, documented in the README; change them only compatibly.

import type { RecordsState } from '../tasks/relay-state.js';
import type { ProviderFailure, SlotFailure, StoredOutput } from '../tasks/types.js';
import { describeOverdue, isOverdue, type OverdueStage } from './overdue-stage.js';

export type StatusContext = RecordsState;

export type TaskStatusState =
  | 'queued'
  | 'submitting'
  | 'submitted'
  | 'completed'
  | 'partial'
  | 'failed'
  | 'cancelled';

export interface TaskStatus {
  taskUUID: string;
  batchId: string | null;
  state: TaskStatusState;
  /** BullMQ's view: waiting, active, delayed (parked while the provider works), completed, failed… */
  jobState: string;
  positivePrompt: string | null;
  width: number | null;
  height: number | null;
  seed: string | null;
  expected: number;
  enqueuedAt: number | null;
  submittedAt: number | null;
  finishedAt: number | null;
  /** Results are due (first poll time passed) and not all stored yet. */
  overdue: boolean;
  /** How long past its due time an overdue task is (null when not overdue). */
  overdueForMs: number | null;
  /** What an overdue task waits for (null when not overdue); see overdue-stage.ts. */
  waitingFor: OverdueStage | null;
  reason: string | null;
  providerError: ProviderFailure | null;
  cost: number;
  outputs: StoredOutput[];
  /** Slots that ended without an output (partial and failed tasks), each with its code and reason. */
  failedSlots: SlotFailure[];
}

export type BatchStatusState =
  | 'enqueuing'
  | 'running'
  | 'completed'
  | 'completed_with_failures'
  | 'cancelled';

export interface BatchStatus {
  batchId: string;
  state: BatchStatusState;
  total: number;
  queued: number;
  inFlight: number;
  completed: number;
  /** Tasks that ended with some outputs stored and some slots failed. */
  partial: number;
  failed: number;
  cancelled: number;
  cost: number;
  budgetUsd: number | null;
  /** Queued tasks are held because the budget would be passed (raise it to resume). */
  held: boolean;
  createdAt: number;
  finishedAt: number | null;
  cancelRequested: boolean;
}

export async function readTaskStatus(ctx: StatusContext, taskUUID: string): Promise<TaskStatus | null> {
  const [rec, job] = await Promise.all([ctx.tasks.get(taskUUID), ctx.queue.getJob(taskUUID)]);
  if (!rec && !job) return null;
  const jobState = job ? await job.getState() : 'unknown';
  const [outputs, failedSlots] = rec
    ? await Promise.all([ctx.tasks.storedOutputs(taskUUID), ctx.tasks.slots.failures(taskUUID)])
    : [[], []];
  const task = job?.data.task;
  const now = Date.now();
  const late = isOverdue(rec, now) ? await describeOverdue(ctx.tasks, rec, outputs.length, now) : null;
  return {
    taskUUID,
    batchId: rec?.batchId ?? job?.data.batchId ?? null,
    state: rec?.state ?? 'queued',
    jobState,
    positivePrompt: task?.positivePrompt ?? null,
    width: task?.width ?? null,
    height: task?.height ?? null,
    seed: task?.seed ?? null,
    expected: rec?.expected ?? task?.numberResults ?? 1,
    enqueuedAt: job?.data.enqueuedAt ?? null,
    submittedAt: rec?.submittedAt ?? null,
    finishedAt: rec?.finishedAt ?? null,
    overdue: late !== null,
    overdueForMs: late?.overdueForMs ?? null,
    waitingFor: late?.waitingFor ?? null,
    reason: rec?.reason ?? (job?.failedReason || null),
    providerError: rec?.providerError ?? null,
    cost: outputs.reduce((s, o) => s + (o.cost ?? 0), 0),
    outputs,
    failedSlots,
  };
}

export async function readBatchStatus(ctx: StatusContext, batchId: string): Promise<BatchStatus | null> {
  const b = await ctx.batches.get(batchId);
  if (!b) return null;
  const ended = b.completed + b.partial + b.failed + b.cancelled;
  const total = b.state === 'enqueued' ? b.total : await ctx.batches.size(batchId);
  const inFlight = Math.max(0, b.submitted - b.settled);
  let state: BatchStatusState = 'running';
  if (b.state === 'enqueuing') state = 'enqueuing';
  else if (b.finishedAt !== undefined || ended >= total) {
    state =
      b.cancelled > 0 ? 'cancelled' : b.failed + b.partial > 0 ? 'completed_with_failures' : 'completed';
  }
  return {
    batchId,
    state,
    total,
    queued: Math.max(0, total - ended - inFlight),
    inFlight,
    completed: b.completed,
    partial: b.partial,
    failed: b.failed,
    cancelled: b.cancelled,
    cost: Math.round(b.cost * 1e6) / 1e6,
    budgetUsd: b.budgetUsd ?? null,
    held: b.held,
    createdAt: b.createdAt,
    finishedAt: b.finishedAt ?? null,
    cancelRequested: b.cancelRequested,
  };
}

/** Task statuses of a batch, in batch order, one page at a time. */
export async function readBatchTasks(
  ctx: StatusContext,
  batchId: string,
  offset = 0,
  limit = 100,
): Promise<TaskStatus[]> {
  const ids = await ctx.batches.taskUUIDs(batchId, offset, limit);
  const out = await Promise.all(ids.map((id) => readTaskStatus(ctx, id)));
  return out.filter((t): t is TaskStatus => t !== null);
}
