// `kontext-relay retry-failed <batchId>`, `cancel <batchId>`, `resume`: operator actions.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { cancelBatch } from '../../control/cancel-batch.js';
import { retryFailedTasks } from '../../control/retry-failed.js';
import { openContext } from '../open-context.js';

export function registerControl(program: Command): void {
  program
    .command('retry-failed')
    .description('run the failed tasks of a batch again (each retry is a new provider task, billed again)')
    .argument('<batchId>')
    .option('--json', 'print JSON')
    .action(async (batchId: string, o: { json?: boolean }) => {
      const ctx = await openContext(loadCliConfig());
      try {
        const r = await retryFailedTasks(ctx, batchId);
        if (o.json) console.log(JSON.stringify(r));
        else {
          console.log(`retried ${r.retried} failed task(s) of batch ${batchId}`);
          if (r.unavailable.length)
            console.log(`  ${r.unavailable.length} could not be retried (their jobs expired)`);
        }
      } finally {
        await ctx.close();
      }
    });
  program
    .command('cancel')
    .description(
      'cancel a batch: queued tasks are removed; tasks already at the provider are marked and their late results discarded (the provider still bills them)',
    )
    .argument('<batchId>')
    .option('--json', 'print JSON')
    .action(async (batchId: string, o: { json?: boolean }) => {
      const ctx = await openContext(loadCliConfig());
      try {
        const r = await cancelBatch(ctx, batchId);
        if (o.json) console.log(JSON.stringify(r));
        else
          console.log(
            `batch ${batchId}: ${r.removed} queued task(s) removed, ${r.cancelledInFlight} in-flight task(s) marked cancelled (still billed by the provider)`,
          );
      } finally {
        await ctx.close();
      }
    });
  program
    .command('resume')
    .description('resume the queue after it was paused (e.g. the provider refused the API key)')
    .action(async () => {
      const ctx = await openContext(loadCliConfig());
      try {
        const reason = await ctx.tasks.queuePausedReason();
        await ctx.queue.resume();
        await ctx.tasks.setQueuePausedReason(null);
        console.log(reason ? `queue resumed (it was paused: ${reason})` : 'queue resumed');
      } finally {
        await ctx.close();
      }
    });
}
