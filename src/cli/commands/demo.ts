// `npm start` / `kontext-relay demo`: the whole product on embedded defaults. Redis from REDIS_URL (or
// the demo's own redis-server), an embedded S3 server under ./data (unless S3_ENDPOINT), the simulator
// (unless RUNWARE_API_KEY); then the worker + webhook server + dashboard, and a demo batch.
// One run per data dir (demo.pid); ports and the demo batch are recorded in demo.json, so a run
// interrupted with Ctrl-C picks up where it stopped.
import type { Command } from 'commander';
import { demoDataDir, readDemoState, writeDemoState } from '../../config/demo-state.js';
import { lockDataDir } from '../../embedded/data-dir-lock.js';
import { createProducer } from '../../producer/create-producer.js';
import type { RunningService } from '../../service/start-service.js';
import { readBatchStatus, readBatchTasks } from '../../status/read-status.js';
import { stopTracing } from '../../tracing/start-tracing.js';
import { demoTasks } from '../demo-tasks.js';
import { onShutdown } from '../shutdown.js';
import { type DemoStack, startDemoStack } from '../start-demo-stack.js';
import { watchBatch } from '../watch-batch.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run everything on embedded defaults and process a demo batch (what `npm start` runs)')
    .option(
      '--tasks <n>',
      'demo batch size (with a real RUNWARE_API_KEY you must give it: tasks cost money)',
      (v) => Number.parseInt(v, 10),
    )
    .option('--exit', 'exit when the demo batch ends (exit code 0 only if every task completed)')
    .action(async (o: { tasks?: number; exit?: boolean }) => {
      const env = { ...process.env };
      const dataDir = demoDataDir(env);
      // Taken already by main's first import (demo-preflight.ts); here it is the same lock.
      const lock = lockDataDir(dataDir);
      const closers: (() => Promise<void>)[] = [];
      const shutdown = async () => {
        for (const c of closers) await c();
        lock.release(); // last: a next run must not meet this run's Redis still stopping
      };
      onShutdown(shutdown);
      let stack: DemoStack;
      try {
        stack = await startDemoStack(env, dataDir, closers);
      } catch (e) {
        await shutdown(); // whatever started before the failure stops again
        throw e;
      }
      const { svc, simulated, recorded } = stack;

      const batchId = await demoBatch(svc, o.tasks ?? (simulated ? 24 : 0), recorded.demoBatchId);
      if (batchId) {
        writeDemoState(dataDir, { ...readDemoState(dataDir), demoBatchId: batchId });
        console.log(`Watch it: ${svc.url}/batches/${batchId}`);
        const final = await watchBatch(svc, batchId, { progress: process.stderr.isTTY });
        console.log(
          `Batch ${final.state}: ${final.completed} completed, ${final.partial} partial, ${final.failed} failed, cost $${final.cost.toFixed(2)}`,
        );
        const tasks = await readBatchTasks(svc, batchId, 0, 3);
        for (const t of tasks)
          for (const out of t.outputs)
            console.log(`  s3://${out.bucket}/${out.key} (${out.contentType}, ${out.size} bytes)`);
        console.log(`  … status of all: npm run cli -- status ${batchId}`);
        if (o.exit) {
          await shutdown();
          await stopTracing();
          process.exit(final.failed + final.partial === 0 && final.cancelled === 0 ? 0 : 1);
        }
      } else if (!simulated) {
        console.log(
          'A real RUNWARE_API_KEY is set: no demo batch is sent unless you pass --tasks N (tasks cost money).',
        );
      }
      console.log('Serving. Press Ctrl-C to stop (queued and parked tasks stay in Redis).');
    });
}

/** The unfinished demo batch of an interrupted run, or a new one of `count` tasks (none when 0). */
async function demoBatch(
  svc: RunningService,
  count: number,
  previous: string | undefined,
): Promise<string | undefined> {
  const before = previous ? await readBatchStatus(svc, previous) : null;
  if (previous && before && (before.state === 'running' || before.state === 'enqueuing')) {
    console.log(`Resuming demo batch ${previous} (${before.total} tasks) from the last run`);
    return previous;
  }
  if (count <= 0) return undefined;
  const producer = createProducer({ connection: svc.redis, config: svc.config });
  const summary = await producer.enqueueBatch(demoTasks(count));
  await producer.close();
  console.log(`Enqueued demo batch ${summary.batchId} (${summary.total} tasks)`);
  return summary.batchId;
}
