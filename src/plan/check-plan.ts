// Whether a plan can go ahead: every line valid, every model priced, the cost within the budget (when
// one is given) and within the account's balance (when it could be read).
import type { Plan } from './build-plan.js';

export interface PlanVerdict {
  ok: boolean;
  /** Why not, one line each; empty when ok. */
  problems: string[];
}

export function checkPlan(
  plan: Plan,
  balanceUsd: number | undefined,
  budgetUsd: number | undefined,
): PlanVerdict {
  const problems: string[] = [];
  if (plan.invalidCount > 0) problems.push(`${plan.invalidCount} invalid line(s)`);
  if (plan.unpriced.length > 0)
    problems.push(`no price for model(s) ${plan.unpriced.join(', ')} (set MODEL_PRICES_USD)`);
  if (budgetUsd !== undefined && plan.costUsd > budgetUsd)
    problems.push(
      `over budget: the plan costs $${plan.costUsd.toFixed(2)}, the budget is $${budgetUsd.toFixed(2)}`,
    );
  if (balanceUsd !== undefined && plan.costUsd > balanceUsd)
    problems.push(
      `short balance: the plan costs $${plan.costUsd.toFixed(2)}, the account holds $${balanceUsd.toFixed(2)}`,
    );
  return { ok: problems.length === 0, problems };
}
