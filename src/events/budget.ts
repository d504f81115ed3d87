// Setting a batch's budget (USD). When the batch was held by the budget gate, this releases it
// (appending batch.resumed once) and wakes its parked tasks at once rather than at their next re-check.
import { NotFoundError } from '../errors.js';
import type { RelayState } from '../tasks/relay-state.js';
import { wakeJob } from '../tasks/wake-job.js';
import { BudgetInputError } from './event-errors.js';

/** Tasks examined per round trip while looking for parked ones. */
const WAKE_PAGE = 500;

export type BudgetContext = Pick<RelayState, 'queue' | 'batches'>;

export interface BudgetChange {
  batchId: string;
  budgetUsd: number;
  /** The batch was held and is released. */
  resumed: boolean;
  /** Parked tasks woken now (the rest, if any, resume at their next re-check). */
  woken: number;
}

export async function raiseBudget(ctx: BudgetContext, batchId: string, usd: number): Promise<BudgetChange> {
  if (!Number.isFinite(usd) || usd < 0)
    throw new BudgetInputError(`budget must be a non-negative USD amount, got ${usd}`);
  const r = await ctx.batches.setBudget(batchId, usd);
  if (r === 'unknown') throw new NotFoundError(`batch ${batchId}`);
  if (r !== 'resumed') return { batchId, budgetUsd: usd, resumed: false, woken: 0 };
  let woken = 0;
  for (let offset = 0; ; offset += WAKE_PAGE) {
    const page = await ctx.batches.unsubmittedTasks(batchId, offset, WAKE_PAGE);
    // Job id = taskUUID; waking a job that is not parked is a no-op.
    const results = await Promise.all(page.taskUUIDs.map((id) => wakeJob(ctx.queue, id)));
    woken += results.filter(Boolean).length;
    if (page.scanned < WAKE_PAGE) break;
  }
  return { batchId, budgetUsd: usd, resumed: true, woken };
}
