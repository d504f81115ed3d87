// `kontext-relay tenant set <name> [--weight n] [--max-in-flight n]` and `tenant list`: fair-share
// weights and caps (issue 14), stored in Redis and read by the scheduler at every admission.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { MAX_TENANT_WEIGHT, setTenant } from '../../control/set-tenant.js';
import { RelayError } from '../../errors.js';
import type { TenantFigures } from '../../tasks/admission-store.js';
import { openContext } from '../open-context.js';

export class TenantInputError extends RelayError {
  constructor(message: string) {
    super('TENANT_INPUT', message);
  }
}

function wholeNumber(flag: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new TenantInputError(`${flag} must be a whole number from ${min} to ${max}, got ${text}`);
    return n;
  };
}

export function registerTenant(program: Command): void {
  const tenant = program.command('tenant').description('fair-share tenants: weights, caps and figures');
  tenant
    .command('set')
    .description('set a tenant’s weight and/or max in flight (takes effect at the next admission)')
    .argument('<name>', 'the tenant (as given to enqueue --tenant; by default a batch id)')
    .option(
      '--weight <n>',
      'share relative to other tenants (default 1)',
      wholeNumber('--weight', 1, MAX_TENANT_WEIGHT),
    )
    .option(
      '--max-in-flight <n>',
      'cap on this tenant’s tasks in flight; 0 removes it',
      wholeNumber('--max-in-flight', 0, 1e9),
    )
    .option('--json', 'print the tenant as JSON')
    .action(async (name: string, o: { weight?: number; maxInFlight?: number; json?: boolean }) => {
      const config = loadCliConfig();
      const ctx = await openContext(config);
      try {
        const figures = await setTenant(ctx, config, name, {
          ...(o.weight !== undefined ? { weight: o.weight } : {}),
          ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
        });
        if (o.json) console.log(JSON.stringify(figures));
        else
          console.log(
            `tenant ${name}: weight ${figures?.weight}, max in flight ${capText(figures?.maxInFlight ?? 0)}`,
          );
      } finally {
        await ctx.close();
      }
    });
  tenant
    .command('list')
    .description('every tenant: weight, cap, queued, in flight, ended, share of the last minute')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const ctx = await openContext(loadCliConfig());
      try {
        printTenants(await ctx.admission.tenants(), o.json ?? false);
      } finally {
        await ctx.close();
      }
    });
}

function capText(n: number): string {
  return n > 0 ? String(n) : 'none';
}

/** The tenant table of `tenant list` and `status --tenants`. */
export function printTenants(tenants: readonly TenantFigures[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ kind: 'tenants', tenants }, null, 2));
    return;
  }
  if (tenants.length === 0) {
    console.log('no tenants (fair share is active when MAX_IN_FLIGHT is set)');
    return;
  }
  const rows = [
    ['tenant', 'weight', 'cap', 'queued', 'in flight', 'ended', 'share 1m', ''],
    ...tenants.map((t) => [
      t.tenant,
      String(t.weight),
      capText(t.maxInFlight),
      String(t.queued),
      String(t.inFlight),
      String(t.ended),
      `${(t.shareLastMinute * 100).toFixed(1)}%`,
      t.throttled ? 'throttled' : '',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
}
