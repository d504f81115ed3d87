// Cancel a batch: queued tasks are removed and never submitted; tasks already at the provider are
// marked cancelled and their late results discarded. The provider still bills those: cancelling
// stops what has not been sent, it cannot recall what has.
import type { AdmissionStore } from '../tasks/admission-store.js';
import { wakeJob } from '../tasks/wake-job.js';
import { batchTaskUUIDs, type ControlContext } from './control-context.js';

const CANCEL_REASON = 'cancelled by operator';

export interface CancelOutcome {
  /** Tasks never submitted: removed from the queue. */
  removed: number;
  /** Tasks already submitted: marked cancelled, late results discarded (still billed). */
  cancelledInFlight: number;
}

export async function cancelBatch(
  ctx: ControlContext & { admission?: AdmissionStore },
  batchId: string,
): Promise<CancelOutcome> {
  // First the flag: a worker about to submit one of these tasks checks it and stops.
  await ctx.batches.requestCancel(batchId);
  const out: CancelOutcome = { removed: 0, cancelledInFlight: 0 };
  for await (const uuid of batchTaskUUIDs(ctx, batchId)) {
    const rec = await ctx.tasks.get(uuid);
    if (rec && rec.state !== 'submitting' && rec.state !== 'submitted') continue;
    if (!rec || rec.state === 'submitting') {
      // Not (yet) accepted by the provider. An active job may still be mid-submit; it will find
      // the task cancelled and its results arrive late and are discarded.
      await ctx.queue.remove(uuid).catch(() => 0);
      if ((await ctx.tasks.finish(uuid, batchId, 'cancelled', CANCEL_REASON)) !== 'already') out.removed++;
      // Its fair-share slot or place in line (no job will settle it). Cap 0: free only; workers refill.
      await ctx.admission?.release(uuid, 0);
    } else if ((await ctx.tasks.finish(uuid, batchId, 'cancelled', CANCEL_REASON)) !== 'already') {
      out.cancelledInFlight++;
      await wakeJob(ctx.queue, rec.jobId); // let the parked job end now rather than at its next poll
    }
  }
  return out;
}
