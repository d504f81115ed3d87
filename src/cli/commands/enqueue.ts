// `kontext-relay enqueue <file.jsonl | ->`: validate and enqueue a batch; optionally wait for it.
// Re-running a file into the same --batch adds nothing (README "Re-runs"); exit codes: README "Exit codes".
import { randomUUID } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { CALLBACK_NEEDS_SECRET } from '../../config/secret-policy.js';
import { BatchValidationError, ConfigError } from '../../errors.js';
import { type BatchSummary, createProducer } from '../../producer/index.js';
import { LANES, type Lane } from '../../tasks/job-options.js';
import { confirmPlan } from '../confirm-plan.js';
import { EXIT, exitCodeOf } from '../exit-codes.js';
import { openContext } from '../open-context.js';
import { readJsonl } from '../read-jsonl.js';
import { describeOutcome, outcomeJson, parseTimeoutSeconds, TIMEOUT_HELP } from '../wait-options.js';
import { followBatch } from '../watch-batch.js';

const HELP_AFTER = `
Re-runs: a line without a taskUUID gets one derived from (batch id, line number, the task's content),
so running the same file again with the same --batch adds nothing and bills nothing; a changed line is a
new task. Without --batch every run is a new batch (a fresh id, printed first): run it again with
--batch <that id> to resume it. One taskUUID on two lines refuses the file (exit 2).

Input: UTF-8 (a leading byte order mark is ignored); a line that is not UTF-8 is refused with its number.

Exit codes: 0 enqueued (with --wait: every task completed) · 1 some tasks failed, were cancelled or
partial, or an unexpected error · 2 the file was refused, nothing enqueued · 3 the batch is unknown
(Redis lost it while waiting) · 4 gave up waiting (--timeout, Redis unreachable until then) · 5 some
lines skipped: their taskUUID belongs to another batch (exit 0 with --allow-existing).`;

interface EnqueueCliOptions {
  batch?: string;
  lane?: string;
  tenant?: string;
  skipInvalid?: boolean;
  allowExisting?: boolean;
  budget?: number;
  callback?: string;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
  plan?: boolean;
  yes?: boolean;
}

export function registerEnqueue(program: Command): void {
  program
    .command('enqueue')
    .description(
      'validate tasks (one JSON object per line, the provider field names) and enqueue them as a batch',
    )
    .argument('<file>', 'JSONL file, or - for stdin')
    .option(
      '--batch <id>',
      'batch id; running the same file again with the same id adds and bills nothing (default: a new random id)',
    )
    .option(
      '--skip-invalid',
      'enqueue the valid tasks and report the invalid ones, instead of rejecting the batch',
    )
    .option(
      '--allow-existing',
      'exit 0 although some lines were skipped because their taskUUID belongs to another batch',
    )
    .option('--budget <usd>', 'hold the batch when its cost would pass this many USD', Number.parseFloat)
    .option('--callback <url>', 'POST signed completion events for this batch to this URL')
    .option('--lane <lane>', `priority lane: ${LANES.join(' | ')} (batches default to bulk)`)
    .option('--tenant <name>', 'fair-share tenant (default: the batch id); see `tenant set`')
    .option('--wait', 'wait for every task to end (rides out Redis restarts); exit 0 only if all completed')
    .option('--timeout <seconds>', `with --wait: ${TIMEOUT_HELP}`, parseTimeoutSeconds)
    .option('--json', 'print a machine-readable summary')
    .option('--plan', 'print the cost plan (as `plan` does) and ask before submitting')
    .option('--yes', 'with --plan: submit without asking when the plan is covered')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, o: EnqueueCliOptions) => {
      if (o.lane !== undefined && !(LANES as readonly string[]).includes(o.lane)) {
        throw new Error(`--lane must be one of ${LANES.join(', ')} (got ${o.lane})`);
      }
      const config = loadCliConfig();
      // Before anything is read or written: a callback nobody can sign would never be called.
      if (o.callback !== undefined && !config.EVENTS_WEBHOOK_SECRET)
        throw new ConfigError(CALLBACK_NEEDS_SECRET);
      // A missing file is reported (ENOENT, see explain-error.ts) before a batch id is printed or Redis opened.
      if (file !== '-') await access(file, constants.R_OK);
      if (o.plan && !(await confirmPlan(config, file, o.budget, o.yes === true))) return;
      const batchId = o.batch ?? randomUUID();
      if (!o.batch) {
        console.error(
          `batch ${batchId} (no --batch given: running this file again makes a new batch and bills every task again; to resume or re-run this batch, pass --batch ${batchId})`,
        );
      }
      const ctx = await openContext(config);
      const producer = createProducer({ connection: ctx.redis, config });
      try {
        const progress = !o.json && process.stderr.isTTY;
        const summary = await producer.enqueueBatch(readJsonl(file), {
          batchId,
          onInvalid: o.skipInvalid ? 'skip' : 'reject',
          ...(o.lane ? { lane: o.lane as Lane } : {}),
          ...(o.tenant ? { tenant: o.tenant } : {}),
          ...(o.budget !== undefined ? { budgetUsd: o.budget } : {}),
          ...(o.callback ? { callbackUrl: o.callback } : {}),
          onProgress: (n) => {
            if (progress) process.stderr.write(`\rprocessed ${n}`);
          },
        });
        if (progress) process.stderr.write('\n');
        const existing = summary.skipped.filter((s) => s.reason === 'TASK_EXISTS').length;
        let code: number = existing > 0 && !o.allowExisting ? EXIT.TASKS_EXIST : EXIT.OK;
        const result: Record<string, unknown> = {
          batchId: summary.batchId,
          total: summary.total,
          enqueued: summary.enqueued,
          alreadyInBatch: summary.alreadyInBatch,
          skipped: summary.skipped,
        };
        if (!o.json) printSummary(summary);
        if (o.wait) {
          const out = await followBatch(ctx, summary.batchId, {
            progress,
            ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
          });
          Object.assign(result, outcomeJson(out));
          if (!o.json) (out.kind === 'ended' ? console.log : console.error)(describeOutcome(batchId, out));
          const waited = exitCodeOf(out);
          if (waited !== EXIT.OK) code = waited;
        }
        if (o.json) console.log(JSON.stringify(result, null, 2));
        process.exitCode = code;
      } catch (e) {
        if (e instanceof BatchValidationError) {
          if (o.json) console.log(JSON.stringify({ error: e.code, entries: e.entries }, null, 2));
          else console.error(e.message);
          process.exitCode = EXIT.INVALID_INPUT;
          return;
        }
        throw e;
      } finally {
        await producer.close();
        await ctx.close();
      }
    });
}

function printSummary(s: BatchSummary): void {
  const parts = [`${s.enqueued} task(s) enqueued`];
  if (s.alreadyInBatch > 0) parts.push(`${s.alreadyInBatch} already in the batch (not added again)`);
  if (s.skipped.length > 0) parts.push(`${s.skipped.length} skipped`);
  console.log(`batch ${s.batchId}: ${parts.join(', ')}; ${s.total} task(s) in the batch`);
  for (const k of s.skipped) {
    const why = k.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    console.log(`  skipped #${k.index}${k.line ? ` (line ${k.line})` : ''} [${k.reason}]: ${why}`);
  }
}
