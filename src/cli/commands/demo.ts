// `npm start` / `kontext-relay demo`: the whole product on embedded defaults. Redis from REDIS_URL (or
// the demo's own redis-server), an embedded S3 server under ./data (unless S3_ENDPOINT), the simulator
// (unless RUNWARE_API_KEY); then the worker + webhook server + dashboard, and a demo batch.
// One run per data dir (demo.pid); ports and the demo batch are recorded in demo.json, so a run
// interrupted with Ctrl-C picks up where it stopped.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { demoDataDir, readDemoState, writeDemoState } from '../../config/demo-state.js';
import { loadConfig } from '../../config/load-config.js';
import { lockDataDir } from '../../embedded/data-dir-lock.js';
import { type EmbeddedRedis, ensureRedis } from '../../embedded/ensure-redis.js';
import { startEmbeddedS3 } from '../../embedded/start-embedded-s3.js';
import { ConfigError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { createProducer } from '../../producer/create-producer.js';
import { type RunningService, startService } from '../../service/start-service.js';
import { startSimulator } from '../../simulator/index.js';
import { readBatchStatus, readBatchTasks } from '../../status/read-status.js';
import { persists } from '../../tasks/redis-persistence.js';
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
      const dataDir = demoDataDir(env);
      // Taken already by main's first import (demo-preflight.ts); here it is the same lock.
      const lock = lockDataDir(dataDir);
      const closers: (() => Promise<void>)[] = [];
      const shutdown = async () => {
        for (const c of closers) await c();
        lock.release(); // last: a next run must not meet this run's Redis still stopping
      };
      onShutdown(shutdown);
      const state = readDemoState(dataDir);
      env.WEBHOOK_SECRET ??= persistedSecret(dataDir);
      env.LOG_LEVEL ??= 'warn';
      const base = loadConfig(env);

      const redis = await ensureRedis({ url: env.REDIS_URL || undefined, dataDir, port: state.redisPort });
      closers.push(redis.stop);
      console.log(describeRedis(redis, dataDir));
      writeDemoState(dataDir, { ...state, redisUrl: redis.url, redisPort: redis.port });

      let s3Port: number | undefined;
      if (!env.S3_ENDPOINT) {
        const s3 = await startEmbeddedS3(dataDir, base.S3_BUCKET, state.s3Port);
        closers.push(s3.stop);
        s3Port = s3.port;
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
      let simulatorPort: number | undefined;
      if (simulated) {
        const sim = await startSimulator({
          // The same port as last time: result URLs recorded by an interrupted run name it.
          port: state.simulatorPort ?? 0,
          latency: { minMs: 500, maxMs: 3000 },
          faults: { duplicateWebhook: 0.1, dropWebhook: 0.05 },
          stateFile: resolve(dataDir, 'simulator', 'journal.jsonl'),
        }).catch((e: unknown) => {
          throw portInUse(e, state.simulatorPort, dataDir) ?? e;
        });
        closers.push(() => sim.close());
        simulatorPort = sim.port;
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
      const recorded = { ...readDemoState(dataDir), s3Port, simulatorPort };
      writeDemoState(dataDir, recorded);

      const config = loadConfig({ ...env, REDIS_URL: redis.url });
      const svc = await startService({
        config,
        role: 'all',
        logger: createLogger(config.LOG_LEVEL),
        mount: mountOperatorSurface,
      });
      closers.unshift(() => svc.close());
      console.log(`Dashboard: ${svc.url}/   queues: ${svc.url}/admin/queues   metrics: ${svc.url}/metrics`);

      const batchId = await demoBatch(svc, o.tasks ?? (simulated ? 24 : 0), recorded.demoBatchId);
      if (batchId) {
        writeDemoState(dataDir, { ...readDemoState(dataDir), demoBatchId: batchId });
        console.log(`Watch it: ${svc.url}/batches/${batchId}`);
        const final = await watchBatch(svc, batchId, { progress: process.stderr.isTTY });
        console.log(
          `Batch ${final.state}: ${final.completed} completed, ${final.failed} failed, cost $${final.cost.toFixed(2)}`,
        );
        const tasks = await readBatchTasks(svc, batchId, 0, 3);
        for (const t of tasks)
          for (const out of t.outputs)
            console.log(`  s3://${out.bucket}/${out.key} (${out.contentType}, ${out.size} bytes)`);
        console.log(`  … status of all: npm run cli -- status ${batchId}`);
        if (o.exit) {
          await shutdown();
          process.exit(final.failed === 0 && final.cancelled === 0 ? 0 : 1);
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

function describeRedis(r: EmbeddedRedis, dataDir: string): string {
  const where = {
    REDIS_URL: 'from REDIS_URL',
    started: `private redis-server, data under ${dataDir}/redis`,
    adopted: `private redis-server left running by an earlier run, data under ${dataDir}/redis`,
    default: 'the default URL (no redis-server binary to start a private one)',
  }[r.source];
  const persistence = persists(r.persistence)
    ? `persists: ${r.persistence.detail}`
    : `does NOT persist: ${r.persistence.detail}`;
  return `Redis: ${r.url} (${where}; ${persistence})`;
}

function portInUse(e: unknown, port: number | undefined, dataDir: string): Error | undefined {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === undefined) return undefined;
  return new ConfigError(
    `the simulator's port ${port} (recorded in ${dataDir}/demo.json) is in use by another program: free it, or delete demo.json to start afresh`,
  );
}

function persistedSecret(dataDir: string): string {
  const file = resolve(dataDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
