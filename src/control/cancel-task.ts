// Cancel one task, as cancelBatch does for each of a batch's: a task not yet accepted by the provider is
// removed from the queue and never submitted; one already submitted is marked cancelled and its late
// results discarded — the provider still bills it.
import { wakeJob } from '../tasks/wake-job.js';
import type { ControlContext } from './control-context.js';

const CANCEL_REASON = 'cancelled by operator';

export type CancelTaskOutcome = 'removed' | 'cancelledInFlight' | 'alreadyEnded' | 'notFound';

export async function cancelTask(ctx: ControlContext, taskUUID: string): Promise<CancelTaskOutcome> {
  const [rec, job] = await Promise.all([ctx.tasks.get(taskUUID), ctx.queue.getJob(taskUUID)]);
  if (!rec && !job) return 'notFound';
  if (rec && rec.state !== 'submitting' && rec.state !== 'submitted') return 'alreadyEnded';
  const batchId = rec?.batchId ?? job?.data.batchId;
  if (!rec || rec.state === 'submitting') {
    await ctx.queue.remove(taskUUID).catch(() => 0);
    const r = await ctx.tasks.finish(taskUUID, batchId, 'cancelled', CANCEL_REASON);
    return r === 'already' ? 'alreadyEnded' : 'removed';
  }
  if ((await ctx.tasks.finish(taskUUID, batchId, 'cancelled', CANCEL_REASON)) === 'already')
    return 'alreadyEnded';
  await wakeJob(ctx.queue, rec.jobId);
  return 'cancelledInFlight';
}
