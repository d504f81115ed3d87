// `kontext-relay budget <batchId> <usd>`: set a batch's budget. A batch held by its budget resumes, and
// its parked tasks are woken at once.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { cliActor } from '../../control/audit-trail.js';
import { setBudgetAction } from '../../control/operator-actions.js';
import { BudgetInputError } from '../../events/event-errors.js';
import { openContext } from '../open-context.js';

export function registerBudget(program: Command): void {
  program
    .command('budget')
    .description('set a batch’s budget in USD; a batch held by its budget resumes')
    .argument('<batchId>', 'the batch')
    .argument('<usd>', 'the new budget in USD, e.g. 12.50')
    .option('--json', 'print the change as JSON')
    .action(async (batchId: string, usdText: string, o: { json?: boolean }) => {
      const usd = usdText.trim() === '' ? Number.NaN : Number(usdText);
      if (!Number.isFinite(usd) || usd < 0)
        throw new BudgetInputError(`<usd> must be a non-negative amount, got ${usdText}`);
      const ctx = await openContext(loadCliConfig());
      try {
        const change = await setBudgetAction(ctx, cliActor(), batchId, usd);
        const batch = await ctx.batches.get(batchId);
        const spent = batch?.cost ?? 0;
        if (o.json) {
          console.log(JSON.stringify({ ...change, spent, held: batch?.held ?? false }));
          return;
        }
        const what = change.resumed
          ? `resumed; ${change.woken} parked task(s) woken`
          : batch?.held
            ? 'still held'
            : 'it was not held';
        console.log(`batch ${batchId}: budget $${usd.toFixed(2)}, spent $${spent.toFixed(4)} — ${what}`);
      } finally {
        await ctx.close();
      }
    });
}
