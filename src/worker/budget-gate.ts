// The budget gate: before a task of a batch with a budget is submitted, admit it to the budget or park
// it. A parked job sits in the delayed set (no slot, no attempt used, nothing failed) until the budget is
// raised (raiseBudget wakes it) or BUDGET_RECHECK_MS passes and it asks again.
import { DelayedError, type Job } from 'bullmq';
import { modelRules } from '../contract/models.js';
import type { Logger } from '../log.js';
import type { QueuedTask, TaskJobData, TaskJobResult } from '../tasks/job-data.js';
import type { WorkerDeps } from './worker-deps.js';

/**
 * How long a held task waits before asking again. A raise wakes held tasks at once; this re-check
 * catches a wake that was missed and lets a cancelled batch's held tasks reach their cancel.
 */
export const BUDGET_RECHECK_MS = 30_000;
/** Estimate for a model missing from the table (never for validated tasks): deliberately high. */
const UNKNOWN_MODEL_COST_PER_IMAGE = 1;

/** Estimated cost of a task before the provider reports one: results × the model's price per image. */
export function estimateTaskCostUsd(task: Pick<QueuedTask, 'model' | 'numberResults'>): number {
  const perImage = modelRules(task.model)?.estimatedCostPerImage ?? UNKNOWN_MODEL_COST_PER_IMAGE;
  return (task.numberResults ?? 1) * perImage;
}

/**
 * Returns when the task may be submitted; otherwise parks the job and throws DelayedError. A batch
 * without a budget admits every task, so when the caller read that with the task's state, no script
 * runs (a budget set in the instant between that read and the submit applies from the next task on).
 */
export async function holdIfOverBudget(
  deps: WorkerDeps,
  job: Job<TaskJobData, TaskJobResult>,
  token: string | undefined,
  log: Logger,
  /** Read with the task's state this activation (TaskStore.snapshot): no budget, nothing to admit. */
  hasBudget?: boolean,
): Promise<void> {
  const { batchId, task } = job.data;
  if (!batchId || hasBudget === false) return;
  const { batches } = deps;
  const verdict = await batches.admitToBudget(batchId, task.taskUUID, estimateTaskCostUsd(task));
  if (verdict.admitted) return;
  if (verdict.heldNow) {
    const { budgetUsd, spent, committed } = verdict;
    log.warn({ budgetUsd, spent, committed }, 'batch budget exhausted: holding its queued tasks');
  }
  await job.moveToDelayed(Date.now() + BUDGET_RECHECK_MS, token);
  // A raise between the verdict and the move found this job still active and could not wake it.
  if (!(await batches.isHeld(batchId))) await job.promote().catch(() => undefined);
  throw new DelayedError();
}
