// Operator retry of failed tasks. The provider refuses a reused taskUUID, so each retry is a new
// attempt with a derived provider UUID; late results of the failed attempt are then ignored.
import { attemptProviderUuid, uploadSubtaskUuids } from '../tasks/attempt-uuids.js';
import { batchTaskUUIDs, type ControlContext } from './control-context.js';

export interface RetryOutcome {
  retried: number;
  /** Failed tasks whose job is gone (past the failed-job retention): they cannot be re-run. */
  unavailable: string[];
}

/** Retry one failed task; false when it is not failed or its job no longer exists. */
export async function retryTask(ctx: ControlContext, taskUUID: string): Promise<boolean> {
  const rec = await ctx.tasks.get(taskUUID);
  if (rec?.state !== 'failed') return false;
  const job = await ctx.queue.getJob(taskUUID);
  if (!job) return false;
  const attempt = rec.attempt + 1;
  const providerTaskUUID = attemptProviderUuid(taskUUID, attempt);
  const subtasks = rec.mode === 'upload' ? uploadSubtaskUuids(providerTaskUUID, rec.expected) : [];
  if (!(await ctx.tasks.resetForRetry(taskUUID, rec.batchId, { attempt, providerTaskUUID, subtasks })))
    return false;
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

/** `onRetried` hears each retried task and its image count (the audit trail lists them). */
export async function retryFailedTasks(
  ctx: ControlContext,
  batchId: string,
  onRetried?: (taskUUID: string, images: number) => void,
): Promise<RetryOutcome> {
  const out: RetryOutcome = { retried: 0, unavailable: [] };
  for await (const uuid of batchTaskUUIDs(ctx, batchId)) {
    const rec = await ctx.tasks.get(uuid);
    if (rec?.state !== 'failed') continue;
    if (await retryTask(ctx, uuid)) {
      out.retried++;
      onRetried?.(uuid, rec.expected);
    } else out.unavailable.push(uuid);
  }
  return out;
}
