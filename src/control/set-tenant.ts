// Set a fair-share tenant's weight and/or cap (issue 14). Stored in Redis, read at every admission;
// with MAX_IN_FLIGHT known here, the scheduler runs at once so a raised cap admits waiting tasks now.
import type { Config } from '../config/load-config.js';
import { ValidationError } from '../errors.js';
import { checkTenant } from '../producer/check-tenant.js';
import type { TenantConfig, TenantFigures } from '../tasks/admission-store.js';
import type { RelayState } from '../tasks/relay-state.js';
import { wakeJob } from '../tasks/wake-job.js';

/** The largest weight: a bigger DRR quantum only makes one tenant's turns longer. */
export const MAX_TENANT_WEIGHT = 1000;

export type TenantContext = Pick<RelayState, 'queue' | 'admission'>;

export async function setTenant(
  ctx: TenantContext,
  config: Pick<Config, 'MAX_IN_FLIGHT'>,
  tenant: string,
  change: Partial<TenantConfig>,
): Promise<TenantFigures | undefined> {
  checkTenant(tenant);
  const { weight, maxInFlight } = change;
  const issues = [];
  if (weight !== undefined && !(Number.isInteger(weight) && weight >= 1 && weight <= MAX_TENANT_WEIGHT))
    issues.push({ path: 'weight', rule: 'range', message: `a whole number from 1 to ${MAX_TENANT_WEIGHT}` });
  if (maxInFlight !== undefined && !(Number.isInteger(maxInFlight) && maxInFlight >= 0))
    issues.push({ path: 'maxInFlight', rule: 'range', message: 'a whole number ≥ 0 (0: no cap)' });
  if (weight === undefined && maxInFlight === undefined)
    issues.push({ path: '', rule: 'required', message: 'give weight and/or maxInFlight' });
  if (issues.length) throw new ValidationError(issues, 'invalid tenant settings');
  await ctx.admission.setTenant(tenant, change);
  if (config.MAX_IN_FLIGHT) {
    for (const u of await ctx.admission.schedule(config.MAX_IN_FLIGHT)) await wakeJob(ctx.queue, u);
  }
  return (await ctx.admission.tenants()).find((t) => t.tenant === tenant);
}
