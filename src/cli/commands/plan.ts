// `kontext-relay plan <file.jsonl>`: what a batch would cost and whether the account and budget cover
// it, before anything is submitted. Exit 0 covered, 1 not covered, 2 invalid lines.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { formatPlanReport, makePlanReport, planExitCode } from '../plan-report.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('validate and price a JSONL batch, and check the account balance (getDetails) and budget')
    .argument('<file>', 'JSONL file, or - for stdin')
    .option('--budget <usd>', 'fail when the plan costs more than this many USD', Number.parseFloat)
    .option('--no-balance', 'do not ask the provider for the account balance')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, o: { budget?: number; balance: boolean; json?: boolean }) => {
      const report = await makePlanReport(loadConfig(), file, {
        budgetUsd: o.budget,
        checkBalance: o.balance,
      });
      console.log(o.json ? JSON.stringify(report, null, 2) : formatPlanReport(report));
      process.exitCode = planExitCode(report);
    });
}
