// The plan as `plan` and `enqueue --plan` print it: validate and price the file, read the account's
// balance from the provider (accountManagement getDetails), and say whether the balance and budget cover it.
import type { Config } from '../config/load-config.js';
import { buildPlan, type Plan } from '../plan/build-plan.js';
import { checkPlan, type PlanVerdict } from '../plan/check-plan.js';
import { priceTable } from '../plan/price-table.js';
import { RunwareClient } from '../provider/runware-client.js';
import { readJsonl } from './read-jsonl.js';

export interface PlanReport {
  plan: Plan;
  balanceUsd: number | null;
  /** Why the balance could not be read, when it could not. */
  balanceError: string | null;
  budgetUsd: number | null;
  verdict: PlanVerdict;
}

/** Exit status of `plan`: 0 covered, 1 not covered (balance, budget, price), 2 invalid lines. */
export function planExitCode(r: PlanReport): number {
  if (r.plan.invalidCount > 0) return 2;
  return r.verdict.ok ? 0 : 1;
}

export async function makePlanReport(
  config: Config,
  file: string,
  opts: { budgetUsd?: number | undefined; checkBalance?: boolean },
): Promise<PlanReport> {
  const plan = await buildPlan(readJsonl(file), priceTable(config.MODEL_PRICES_USD ?? {}));
  let balanceUsd: number | null = null;
  let balanceError: string | null = null;
  if (opts.checkBalance !== false) {
    const client = new RunwareClient({ url: config.RUNWARE_API_URL, apiKey: config.RUNWARE_API_KEY ?? '' });
    try {
      balanceUsd = (await client.getAccountDetails()).balance;
    } catch (e) {
      balanceError = (e as Error).message;
    } finally {
      await client.close();
    }
  }
  const verdict = checkPlan(plan, balanceUsd ?? undefined, opts.budgetUsd);
  if (balanceError !== null) {
    verdict.ok = false;
    verdict.problems.push(`cannot read the account balance: ${balanceError}`);
  }
  return { plan, balanceUsd, balanceError, budgetUsd: opts.budgetUsd ?? null, verdict };
}

export function formatPlanReport(r: PlanReport): string {
  const out: string[] = [];
  const p = r.plan;
  out.push(`plan: ${p.tasks} valid task(s), ${p.images} image(s), estimated $${p.costUsd.toFixed(2)}`);
  for (const l of p.byModel) {
    const price = l.pricePerImage === null ? 'no price' : `$${l.pricePerImage} per image`;
    out.push(`  ${l.model}: ${l.tasks} task(s), ${l.images} image(s), ${price}, $${l.costUsd.toFixed(2)}`);
  }
  for (const i of p.invalid)
    out.push(`  invalid #${i.index}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`);
  if (p.invalidCount > p.invalid.length) out.push(`  … ${p.invalidCount - p.invalid.length} more invalid`);
  if (r.balanceUsd !== null) out.push(`balance: $${r.balanceUsd.toFixed(2)}`);
  if (r.budgetUsd !== null) out.push(`budget: $${r.budgetUsd.toFixed(2)}`);
  out.push(r.verdict.ok ? 'covered: yes' : `covered: NO — ${r.verdict.problems.join('; ')}`);
  return out.join('\n');
}
