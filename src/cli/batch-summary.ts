// The human `status` of a batch: its state, counts, why it is held, and how many of its tasks are
// overdue (each overdue task's own line says for how long and what it waits for).
import type { BatchStatus, TaskStatus } from '../status/read-status.js';

export function batchSummaryLines(
  batch: BatchStatus,
  tasks: readonly Pick<TaskStatus, 'overdue'>[],
): string[] {
  const held = batch.held ? ' (held)' : '';
  const overdue = tasks.filter((t) => t.overdue).length;
  const lines = [
    `batch ${batch.batchId}: ${batch.state}${held}`,
    `  total ${batch.total} | completed ${batch.completed} | partial ${batch.partial} | failed ${batch.failed} | cancelled ${batch.cancelled} | in flight ${batch.inFlight} | queued ${batch.queued} | overdue ${overdue} | cost $${batch.cost.toFixed(4)}`,
  ];
  if (batch.held) {
    const budget = batch.budgetUsd === null ? '' : ` of $${batch.budgetUsd.toFixed(2)}`;
    lines.push(
      `  held: the next task would pass the budget${budget}; its queued tasks wait (raise it: kontext-relay budget ${batch.batchId} <usd>)`,
    );
  }
  return lines;
}
