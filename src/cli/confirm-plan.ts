// `enqueue --plan`: print the plan, refuse when it is not covered, and ask on a terminal before
// submitting (`--yes` answers for scripts; without a terminal and without --yes nothing is submitted).
import { createInterface } from 'node:readline/promises';
import type { Config } from '../config/load-config.js';
import { formatPlanReport, makePlanReport, planExitCode } from './plan-report.js';

export async function confirmPlan(
  config: Config,
  file: string,
  budgetUsd: number | undefined,
  yes: boolean,
): Promise<boolean> {
  if (file === '-') throw new Error('--plan reads the file twice: give a file, not stdin');
  const report = await makePlanReport(config, file, { budgetUsd });
  console.error(formatPlanReport(report));
  if (!report.verdict.ok) {
    process.exitCode = planExitCode(report);
    return false;
  }
  if (yes) return true;
  if (!process.stdin.isTTY) {
    console.error('not submitted: no terminal to ask on (pass --yes to submit from a script)');
    process.exitCode = 1;
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('submit this batch? [y/N] ');
    if (/^y(es)?$/i.test(answer.trim())) return true;
    console.error('not submitted');
    return false;
  } finally {
    rl.close();
  }
}
