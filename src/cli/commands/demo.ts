// `npm start` / `kontext-relay demo`: the whole product on embedded defaults. Redis from REDIS_URL (or
// a private redis-server), an embedded S3 server under ./data (unless S3_ENDPOINT), the simulator
// (unless RUNWARE_API_KEY); then the worker + webhook server + dashboard, and a demo batch.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { ensureRedis } from '../../embedded/ensure-redis.js';
import { startEmbeddedS3 } from '../../embedded/start-embedded-s3.js';
import { createLogger } from '../../log.js';
import { createProducer } from '../../producer/create-producer.js';
import { startService } from '../../service/start-service.js';
import { startSimulator } from '../../simulator/index.js';
import { readBatchTasks } from '../../status/read-status.js';
import { stopTracing } from '../../tracing/start-tracing.js';
import { persistedWebhookSecret } from '../demo-secrets.js';
import { demoTasks } from '../demo-tasks.js';
import { mountOperatorSurface } from '../operator-surface.js';
import { onShutdown } from '../shutdown.js';
import { watchBatch } from '../watch-batch.js';

const SIMULATED_API_KEY = 'simulator';

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
      const dataDir = resolve(env.DATA_DIR ?? './data');
      mkdirSync(dataDir, { recursive: true });
      env.WEBHOOK_SECRET ??= persistedWebhookSecret(dataDir);
      env.LOG_LEVEL ??= 'warn';
      const base = loadConfig(env);
      const closers: (() => Promise<void>)[] = [];

      const redis = await ensureRedis(base.REDIS_URL, dataDir);
      closers.push(redis.stop);
      if (redis.started) console.log(`Redis: started a private redis-server (AOF under ${dataDir}/redis)`);

      if (!env.S3_ENDPOINT) {
        const s3 = await startEmbeddedS3(dataDir, base.S3_BUCKET);
        closers.push(s3.stop);
        Object.assign(env, {
          S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
        });
        console.log(
          `S3: embedded server at ${s3.endpoint}, objects under ${s3.directory}/${base.S3_BUCKET}/`,
        );
      }
      const simulated = !env.RUNWARE_API_KEY;
      if (simulated) {
        const sim = await startSimulator({
          port: 0,
          latency: { minMs: 500, maxMs: 3000 },
          faults: { duplicateWebhook: 0.1, dropWebhook: 0.05 },
        });
        closers.push(() => sim.close());
        const host = new URL(sim.baseUrl).host;
        Object.assign(env, {
          RUNWARE_API_URL: sim.url,
          RUNWARE_API_KEY: SIMULATED_API_KEY,
          FETCH_ALLOWED_HOSTS: [env.FETCH_ALLOWED_HOSTS, host].filter(Boolean).join(','),
          FIRST_POLL_AFTER_MS: env.FIRST_POLL_AFTER_MS ?? '8000',
        });
        console.log(
          `Provider: simulator at ${sim.url} (drops 5% of webhooks, duplicates 10%: polling recovers them)`,
        );
      } else console.log(`Provider: Runware at ${base.RUNWARE_API_URL}`);

      const config = loadConfig({ ...env, REDIS_URL: redis.url });
      const svc = await startService({
        config,
        role: 'all',
        logger: createLogger(config.LOG_LEVEL),
        mount: mountOperatorSurface,
      });
      closers.unshift(() => svc.close());
      const shutdown = async () => {
        for (const c of closers) await c();
      };
      console.log(`Dashboard: ${svc.url}/   queues: ${svc.url}/admin/queues   metrics: ${svc.url}/metrics`);

      const count = o.tasks ?? (simulated ? 24 : 0);
      if (count > 0) {
        const producer = createProducer({ connection: svc.redis, config });
        const summary = await producer.enqueueBatch(demoTasks(count));
        await producer.close();
        console.log(`Enqueued demo batch ${summary.batchId} (${summary.total} tasks)`);
        console.log(`Watch it: ${svc.url}/batches/${summary.batchId}`);
        const final = await watchBatch(svc, summary.batchId, { progress: process.stderr.isTTY });
        console.log(
          `Batch ${final.state}: ${final.completed} completed, ${final.partial} partial, ${final.failed} failed, cost $${final.cost.toFixed(2)}`,
        );
        const tasks = await readBatchTasks(svc, summary.batchId, 0, 3);
        for (const t of tasks)
          for (const out of t.outputs)
            console.log(`  s3://${out.bucket}/${out.key} (${out.contentType}, ${out.size} bytes)`);
        console.log(`  … status of all: npm run cli -- status ${summary.batchId}`);
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
      onShutdown(shutdown);
    });
}
