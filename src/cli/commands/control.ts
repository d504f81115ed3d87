// `kontext-relay retry-failed <batchId>`, `cancel <batchId>`, `resume`: operator actions, each audited
// as `cli@<host>` (README "Security").
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { cliActor } from '../../control/audit-trail.js';
import { cancelBatchAction, resumeQueueAction, retryFailedAction } from '../../control/operator-actions.js';
import { openContext } from '../open-context.js';

export function registerControl(program: Command): void {
  program
    .command('retry-failed')
    .description('run the failed tasks of a batch again (each retry is a new provider task, billed again)')
    .argument('<batchId>')
    .option('--json', 'print JSON')
    .action(async (batchId: string, o: { json?: boolean }) => {
      const ctx = await openContext(loadConfig());
      try {
        const r = await retryFailedAction(ctx, cliActor(), batchId);
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
      const ctx = await openContext(loadConfig());
      try {
        const r = await cancelBatchAction(ctx, cliActor(), batchId);
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
      const ctx = await openContext(loadConfig());
      try {
        const { wasPausedFor: reason } = await resumeQueueAction(ctx, cliActor());
        console.log(reason ? `queue resumed (it was paused: ${reason})` : 'queue resumed');
      } finally {
        await ctx.close();
      }
    });
}
