// `kontext-relay retry-failed <batchId>`, `cancel <batchId>`, `resume`: operator actions, each audited
// as `cli@<host>` (README "Security"). retry-failed says what it will bill and asks first.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { cliActor } from '../../control/audit-trail.js';
import { cancelBatchAction, resumeQueueAction, retryFailedAction } from '../../control/operator-actions.js';
import { planRetry, type RetryPlan } from '../../control/retry-failed.js';
import { EXIT } from '../exit-codes.js';
import { type CliContext, openContext } from '../open-context.js';

export function registerControl(program: Command): void {
  program
    .command('retry-failed')
    .description(
      'run the failed tasks of a batch again, and only the failed slots of partial tasks; prints how many images the provider will bill and asks first',
    )
    .argument('<batchId>')
    .option('--yes', 'do not ask for confirmation (scripts)')
    .option('--json', 'print JSON')
    .action(async (batchId: string, o: { json?: boolean; yes?: boolean }) => {
      const config = loadCliConfig();
      const ctx = await openContext(config);
      try {
        if (!(await batchExists(ctx, batchId))) return;
        const plan = await planRetry(ctx, batchId);
        if (plan.failedTasks + plan.partialTasks === 0) {
          if (o.json) console.log(JSON.stringify({ retried: 0, billedImages: 0, unavailable: [] }));
          else console.log(`batch ${batchId} has no failed or partial task to retry`);
          return;
        }
        const what = describePlan(plan);
        if (!o.yes) {
          if (!process.stdin.isTTY) {
            console.error(
              `${what}\nrefusing to retry without confirmation: pass --yes (no terminal to ask on)`,
            );
            process.exitCode = 2;
            return;
          }
          if (!(await confirm(`${what}\nProceed? [y/N] `))) {
            console.log('nothing retried');
            return;
          }
        } else if (!o.json) console.log(what);
        const r = await retryFailedAction(ctx, cliActor(), batchId, {
          firstPollAfterMs: config.FIRST_POLL_AFTER_MS,
          resultDeadlineMs: config.RESULT_DEADLINE_MS,
        });
        if (o.json) console.log(JSON.stringify(r));
        else {
          console.log(
            `retried ${r.retried} task(s) of batch ${batchId}: ${r.billedImages} image(s) to be billed`,
          );
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
        if (!(await batchExists(ctx, batchId))) return;
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
      const ctx = await openContext(loadCliConfig());
      try {
        const { wasPausedFor: reason } = await resumeQueueAction(ctx, cliActor());
        console.log(reason ? `queue resumed (it was paused: ${reason})` : 'queue resumed');
      } finally {
        await ctx.close();
      }
    });
}

/** False (exit 3, nothing written, not even an audit entry) when no such batch was ever enqueued. */
async function batchExists(ctx: Pick<CliContext, 'batches'>, batchId: string): Promise<boolean> {
  if (await ctx.batches.get(batchId)) return true;
  console.error(`error: no batch ${batchId}`);
  console.error(
    'hint: check the id (enqueue prints it first; `kontext-relay status <id>` finds batches and tasks)',
  );
  process.exitCode = EXIT.UNKNOWN_BATCH;
  return false;
}

function describePlan(p: RetryPlan): string {
  const parts = [
    `${p.failedTasks} failed task(s) run again whole`,
    `${p.partialTasks} partial task(s) run again for their failed slots only`,
  ];
  const refetch = p.refetchedSlots
    ? `; ${p.refetchedSlots} generated image(s) fetched again (not billed)`
    : '';
  return `retry: ${parts.join(', ')}: the provider will generate and bill ${p.billedImages} image(s)${refetch}`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
