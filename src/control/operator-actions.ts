// The operator actions as the dashboard and the CLI run them: each does its work, then leaves exactly one
// audit entry (and `operator.action` event) naming who, what, which batch and tasks, and how many images
// it may bill. A new action goes through `recordOperatorAction` the same way.
import { MODELS } from '../contract/models.js';
import { type BudgetChange, raiseBudget } from '../events/budget.js';
import { type AuditContext, recordOperatorAction } from './audit-trail.js';
import { type CancelOutcome, cancelBatch } from './cancel-batch.js';
import type { ControlContext } from './control-context.js';
import { type RetryOutcome, type RetryTimes, retryFailedTasks } from './retry-failed.js';

export type ActionContext = ControlContext & AuditContext;

/** The cheapest per-image estimate: how many images a budget raise may buy at most. */
const CHEAPEST_IMAGE_USD = Math.min(...Object.values(MODELS).map((m) => m.estimatedCostPerImage));

export async function retryFailedAction(
  ctx: ActionContext,
  actor: string,
  batchId: string,
  times?: RetryTimes,
): Promise<RetryOutcome> {
  const retried: string[] = [];
  const r = await retryFailedTasks(ctx, batchId, {
    ...(times ? { times } : {}),
    onRetried: (uuid) => retried.push(uuid),
  });
  await recordOperatorAction(ctx, {
    actor,
    action: 'retry-failed',
    batchId,
    taskUUIDs: retried,
    tasks: r.retried,
    mayBillImages: r.billedImages,
    detail: { unavailable: r.unavailable.length },
  });
  return r;
}

export async function cancelBatchAction(
  ctx: ActionContext,
  actor: string,
  batchId: string,
): Promise<CancelOutcome> {
  const r = await cancelBatch(ctx, batchId);
  // Cancelling bills nothing new; tasks already at the provider were billed when they were accepted.
  await recordOperatorAction(ctx, {
    actor,
    action: 'cancel',
    batchId,
    tasks: r.removed + r.cancelledInFlight,
    mayBillImages: 0,
    detail: { ...r },
  });
  return r;
}

export interface ResumeOutcome {
  wasPausedFor: string | null;
}

export async function resumeQueueAction(ctx: ActionContext, actor: string): Promise<ResumeOutcome> {
  const reason = await ctx.tasks.queuePausedReason();
  await ctx.queue.resume();
  await ctx.tasks.setQueuePausedReason(null);
  const counts = await ctx.queue.getJobCounts('waiting', 'prioritized', 'delayed');
  const queued = Object.values(counts).reduce((a, b) => a + b, 0);
  // Every queued task may now run; how many images each has is not read here (it could be 100k jobs).
  await recordOperatorAction(ctx, {
    actor,
    action: 'resume',
    tasks: queued,
    mayBillImages: null,
    detail: { wasPausedFor: reason },
  });
  return { wasPausedFor: reason };
}

export async function setBudgetAction(
  ctx: ActionContext,
  actor: string,
  batchId: string,
  usd: number,
): Promise<BudgetChange> {
  const before = await ctx.batches.get(batchId);
  const change = await raiseBudget(ctx, batchId, usd);
  const spent = before?.cost ?? 0;
  await recordOperatorAction(ctx, {
    actor,
    action: 'budget',
    batchId,
    tasks: change.woken,
    // At most what the room left under the new budget buys at the cheapest per-image estimate.
    mayBillImages: Math.max(0, Math.floor((usd - spent) / CHEAPEST_IMAGE_USD + 1e-9)),
    detail: { budgetUsd: usd, previousBudgetUsd: before?.budgetUsd ?? null, spent, resumed: change.resumed },
  });
  return change;
}
