// `kontext-relay enqueue <file.jsonl | ->`: validate and enqueue a batch; optionally wait for it.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { BatchValidationError } from '../../errors.js';
import { createProducer } from '../../producer/create-producer.js';
import { LANES, type Lane } from '../../tasks/job-options.js';
import { openContext } from '../open-context.js';
import { readJsonl } from '../read-jsonl.js';
import { watchBatch } from '../watch-batch.js';

export function registerEnqueue(program: Command): void {
  program
    .command('enqueue')
    .description(
      'validate tasks (one JSON object per line, the provider field names) and enqueue them as a batch',
    )
    .argument('<file>', 'JSONL file, or - for stdin')
    .option('--batch <id>', 'batch id (re-running with the same id adds nothing twice)')
    .option(
      '--skip-invalid',
      'enqueue the valid tasks and report the invalid ones, instead of rejecting the batch',
    )
    .option('--budget <usd>', 'hold the batch when its cost would pass this many USD', Number.parseFloat)
    .option('--callback <url>', 'POST signed completion events for this batch to this URL')
    .option('--lane <lane>', `priority lane: ${LANES.join(' | ')} (batches default to bulk)`)
    .option('--wait', 'wait for every task to end; exit 0 only if all completed')
    .option('--json', 'print a machine-readable summary')
    .action(
      async (
        file: string,
        o: {
          batch?: string;
          lane?: string;
          skipInvalid?: boolean;
          budget?: number;
          callback?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) => {
        if (o.lane !== undefined && !(LANES as readonly string[]).includes(o.lane)) {
          throw new Error(`--lane must be one of ${LANES.join(', ')} (got ${o.lane})`);
        }
        const config = loadCliConfig();
        const ctx = await openContext(config);
        const producer = createProducer({ connection: ctx.redis, config });
        try {
          const progress = !o.json && process.stderr.isTTY;
          const summary = await producer.enqueueBatch(readJsonl(file), {
            ...(o.batch ? { batchId: o.batch } : {}),
            onInvalid: o.skipInvalid ? 'skip' : 'reject',
            ...(o.lane ? { lane: o.lane as Lane } : {}),
            ...(o.budget !== undefined ? { budgetUsd: o.budget } : {}),
            ...(o.callback ? { callbackUrl: o.callback } : {}),
            onProgress: (n) => {
              if (progress) process.stderr.write(`\renqueued ${n}`);
            },
          });
          if (progress) process.stderr.write('\n');
          const result: Record<string, unknown> = {
            batchId: summary.batchId,
            total: summary.total,
            enqueued: summary.enqueued,
            skipped: summary.skipped,
          };
          if (!o.json) {
            console.log(`batch ${summary.batchId}: ${summary.enqueued} task(s) enqueued`);
            for (const s of summary.skipped) {
              console.log(
                `  skipped #${s.index}${s.line ? ` (line ${s.line})` : ''}: ${s.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
              );
            }
          }
          if (o.wait) {
            const final = await watchBatch(ctx, summary.batchId, { progress });
            result.status = final;
            if (!o.json) {
              console.log(
                `batch ${final.batchId} ${final.state}: ${final.completed} completed, ${final.failed} failed, ${final.cancelled} cancelled, cost $${final.cost.toFixed(4)}`,
              );
            }
            process.exitCode = final.failed === 0 && final.cancelled === 0 ? 0 : 1;
          }
          if (o.json) console.log(JSON.stringify(result, null, 2));
        } catch (e) {
          if (e instanceof BatchValidationError) {
            if (o.json) console.log(JSON.stringify({ error: e.code, entries: e.entries }, null, 2));
            else console.error(e.message);
            process.exitCode = 2;
            return;
          }
          throw e;
        } finally {
          await producer.close();
          await ctx.close();
        }
      },
    );
}
