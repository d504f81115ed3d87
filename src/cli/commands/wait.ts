// `kontext-relay wait <batchId>`: wait for a batch to end, riding out Redis restarts; the exit code
// says how it ended (README "Exit codes").
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { isRedisUnavailable } from '../../tasks/redis-unavailable.js';
import { exitCodeOf } from '../exit-codes.js';
import { type CliContext, openContext } from '../open-context.js';
import { describeOutcome, outcomeJson, parseTimeoutSeconds, TIMEOUT_HELP } from '../wait-options.js';
import { followBatch, type WatchOutcome } from '../watch-batch.js';

const CONNECT_RETRY_MS = 500;

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description(
      'wait for a batch to end; exit 0 all completed, 1 some failed/partial/cancelled, 3 unknown batch, 4 gave up (--timeout)',
    )
    .argument('<batchId>')
    .option('--timeout <seconds>', TIMEOUT_HELP, parseTimeoutSeconds)
    .option('--json', 'print the outcome and the batch status as JSON')
    .action(async (batchId: string, o: { timeout?: number; json?: boolean }) => {
      const config = loadCliConfig();
      const timeoutMs = o.timeout === undefined ? undefined : o.timeout * 1000;
      const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
      const ctx = await openWhenReachable(() => openContext(config), deadline);
      let out: WatchOutcome;
      if (!ctx) out = { kind: 'gave-up', why: 'redis-unreachable', last: undefined };
      else {
        try {
          const left = deadline - Date.now();
          out = await followBatch(ctx, batchId, {
            progress: !o.json && process.stderr.isTTY,
            ...(Number.isFinite(left) ? { timeoutMs: Math.max(0, left) } : {}),
          });
        } finally {
          await ctx.close();
        }
      }
      if (o.json) console.log(JSON.stringify({ batchId, ...outcomeJson(out) }, null, 2));
      else (out.kind === 'ended' ? console.log : console.error)(describeOutcome(batchId, out));
      process.exitCode = exitCodeOf(out);
    });
}

/** Connect, retrying while Redis is unreachable; undefined when the deadline passes first. */
async function openWhenReachable(
  open: () => Promise<CliContext>,
  deadline: number,
): Promise<CliContext | undefined> {
  let said = false;
  for (;;) {
    try {
      return await open();
    } catch (e) {
      if (!isRedisUnavailable(e)) throw e;
      if (!said) console.error(`redis unreachable (${(e as Error).message}): retrying`);
      said = true;
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
    }
  }
}
