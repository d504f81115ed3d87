// `kontext-relay status <batchId|taskUUID>`: state, and the outputs of every completed task.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import {
  readBatchStatus,
  readBatchTasks,
  readTaskStatus,
  type TaskStatus,
} from '../../status/read-status.js';
import { batchSummaryLines } from '../batch-summary.js';
import { openContext } from '../open-context.js';
import { printTenants } from './tenant.js';

const PAGE = 500;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show a batch or a task: state, counts, and each completed task’s stored outputs')
    .argument('[id]', 'batch id or taskUUID')
    .option('--json', 'print JSON (documented in the README)')
    .option(
      '--tenants',
      'per-tenant fair-share figures instead (queued, in flight, share of the last minute)',
    )
    .action(async (id: string | undefined, o: { json?: boolean; tenants?: boolean }) => {
      if (!o.tenants && id === undefined) throw new Error('give a batch id or taskUUID, or --tenants');
      const ctx = await openContext(loadCliConfig());
      try {
        if (o.tenants || id === undefined) {
          printTenants(await ctx.admission.tenants(), o.json ?? false);
          return;
        }
        const batch = await readBatchStatus(ctx, id);
        if (batch) {
          const tasks: TaskStatus[] = [];
          for (let off = 0; off < batch.total; off += PAGE)
            tasks.push(...(await readBatchTasks(ctx, id, off, PAGE)));
          if (o.json) {
            console.log(JSON.stringify({ kind: 'batch', ...batch, tasks }, null, 2));
            return;
          }
          for (const line of batchSummaryLines(batch, tasks)) console.log(line);
          for (const t of tasks) printTask(t, '  ');
          return;
        }
        const task = await readTaskStatus(ctx, id);
        if (!task) {
          if (o.json) console.log(JSON.stringify({ kind: 'unknown', id }));
          else console.error(`no batch or task with id ${id}`);
          process.exitCode = 3;
          return;
        }
        if (o.json) console.log(JSON.stringify({ kind: 'task', ...task }, null, 2));
        else printTask(task, '');
      } finally {
        await ctx.close();
      }
    });
}

/** A task's first line: id, state, and why it failed or how long and why it is overdue. */
export function taskHeadline(t: TaskStatus): string {
  const late =
    t.overdue && t.overdueForMs !== null
      ? ` — overdue ${Math.round(t.overdueForMs / 1000)}s (${t.waitingFor ?? 'in flight'})`
      : '';
  return `${t.taskUUID} ${t.state}${t.reason ? ` — ${t.reason}` : late}`;
}

function printTask(t: TaskStatus, indent: string): void {
  console.log(`${indent}${taskHeadline(t)}`);
  for (const f of t.failedSlots)
    console.log(`${indent}  slot ${f.slot} failed (${f.stage}): ${f.code}: ${f.message}`);
  for (const out of t.outputs) {
    console.log(
      `${indent}  s3://${out.bucket}/${out.key} ${out.size}B ${out.contentType} sha256=${out.sha256.slice(0, 16)}… image=${out.imageUUID} seed=${out.seed ?? '-'} cost=${out.cost ?? '-'}`,
    );
  }
}
