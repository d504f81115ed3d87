// A batch as the dashboard shows it: the public BatchStatus plus overdue tasks and the budget hold, and
// the queue-wide summary (paused and why, overdue, job counts). Reads only; never scans a whole batch.
import { type BatchStatus, readBatchStatus } from '../status/read-status.js';
import { type DeliveryHealth, readDeliveryHealth } from '../tasks/delivery-stats.js';
import type { DashboardContext } from './dashboard-context.js';
import { countOverdueInBatch, countOverdueInQueue } from './overdue-tasks.js';

export const BATCH_LIST_MAX = 200;

export interface BatchView extends BatchStatus {
  overdue: number;
  overdueCapped: boolean;
  /** Queued tasks are held: running them would pass the batch's budget (see BatchStore.admitToBudget). */
  held: boolean;
  heldAt: number | null;
}

export interface QueueSummary {
  paused: boolean;
  pausedReason: string | null;
  overdue: number;
  counts: Record<string, number>;
  /** Share of recent results recovered by polling, and whether new tasks are polled first. */
  webhooks: DeliveryHealth;
}

type Ctx = Pick<DashboardContext, 'redis' | 'queue' | 'tasks' | 'batches'>;

export async function readBatchView(ctx: Ctx, batchId: string): Promise<BatchView | null> {
  const [status, record, overdue] = await Promise.all([
    readBatchStatus(ctx, batchId),
    ctx.batches.get(batchId),
    countOverdueInBatch(ctx, batchId),
  ]);
  if (!status) return null;
  return {
    ...status,
    overdue: overdue.count,
    overdueCapped: overdue.capped,
    held: record?.held ?? false,
    heldAt: record?.heldAt ?? null,
  };
}

/** Newest batches first, without overdue counts (those are per batch page). */
export async function listBatches(ctx: Ctx, offset: number, limit: number): Promise<BatchStatus[]> {
  const ids = await ctx.batches.list(offset, Math.min(limit, BATCH_LIST_MAX));
  const out = await Promise.all(ids.map((id) => readBatchStatus(ctx, id)));
  return out.filter((b): b is BatchStatus => b !== null);
}

export async function readQueueSummary(ctx: Ctx): Promise<QueueSummary> {
  const [paused, pausedReason, overdue, counts, webhooks] = await Promise.all([
    ctx.queue.isPaused(),
    ctx.tasks.queuePausedReason(),
    countOverdueInQueue(ctx),
    ctx.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
    readDeliveryHealth(ctx.redis, ctx.tasks.keys),
  ]);
  return { paused, pausedReason, overdue, counts, webhooks };
}
