// `kontext-relay audit [--since 1h|ISO time] [--limit N] [--json]`: the audit trail, newest first.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { type AuditEntry, readAuditTrail } from '../../control/audit-trail.js';
import { ConfigError } from '../../errors.js';
import { openContext } from '../open-context.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `2h`, `7d` ago, or an absolute ISO time; ms since the epoch. */
export function parseSince(text: string, now = Date.now()): number {
  const rel = /^(\d+)([smhd])$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * (UNIT_MS[rel[2]!] ?? 0);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new ConfigError(`--since must be like 30m, 2h, 7d or an ISO time, got ${text}`);
  return at;
}

export function formatAuditLine(e: AuditEntry): string {
  const batch = e.batchId ? ` batch=${e.batchId}` : '';
  const bill = e.mayBillImages === null ? 'unknown' : String(e.mayBillImages);
  return `${new Date(e.at).toISOString()} ${e.actor} ${e.action}${batch} tasks=${e.tasks} may-bill-images=${bill}`;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('print the audit trail of operator actions (who, what, which batch, images it may bill)')
    .option('--since <when>', 'only since: 30m, 2h, 7d, or an ISO time')
    .option('--limit <n>', 'at most this many entries (newest first)', (v) => Number.parseInt(v, 10), 200)
    .option('--json', 'JSON lines')
    .action(async (o: { since?: string; limit: number; json?: boolean }) => {
      const sinceMs = o.since === undefined ? undefined : parseSince(o.since);
      const ctx = await openContext(loadCliConfig());
      try {
        const entries = await readAuditTrail(ctx, {
          limit: o.limit,
          ...(sinceMs === undefined ? {} : { sinceMs }),
        });
        for (const e of entries) console.log(o.json ? JSON.stringify(e) : formatAuditLine(e));
      } finally {
        await ctx.close();
      }
    });
}
