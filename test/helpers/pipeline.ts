// An in-process pipeline on real parts: the simulator over HTTP, the service (worker + webhook server)
// on a free port, the run's private Redis and S3 server, a producer. Plus the invariants every run
// must keep, checked from the outside (S3 listing, simulator's own record, Redis).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import type { Config } from '../../src/config/load-config.js';
import type { Logger } from '../../src/log.js';
import { createProducer, type Producer } from '../../src/producer/create-producer.js';
import { type RunningService, type ServiceOptions, startService } from '../../src/service/start-service.js';
import {
  type FaultRates,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.js';
import { type BatchStatus, readBatchStatus, readBatchTasks } from '../../src/status/read-status.js';
import { connectRedis } from '../../src/tasks/redis-connection.js';
import { testConfig } from './env.js';

export interface Pipeline {
  sim: Simulator;
  svc: RunningService;
  /** The worker process's service (its metrics count polling recoveries). */
  workerSvc: RunningService | undefined;
  producer: Producer;
  config: Config;
  /** A spare connection for the test (a single node, or a Cluster client on a cluster). */
  redis: Redis;
  close(): Promise<void>;
}

export type PipelineRole = 'webhook' | 'worker' | 'producer';

export interface PipelineOptions {
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  /** 'webhook' starts no worker. */
  role?: 'all' | 'worker' | 'webhook';
  /** Mount more routes (dashboard, events) on the webhook server. */
  mount?: ServiceOptions['mount'];
  /** Both services log here (default: silent, from LOG_LEVEL). */
  logger?: Logger;
  /** Adjust the config one role gets, e.g. name a Redis Cluster a different way per role. */
  configFor?: (role: PipelineRole, base: Config) => Config;
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const sim = await startSimulator({ port: 0, latency: { minMs: 5, maxMs: 40 }, ...opts.sim });
  const base = testConfig({
    RUNWARE_API_URL: sim.url,
    RUNWARE_API_KEY: 'test-key',
    FETCH_ALLOWED_HOSTS: new URL(sim.baseUrl).host,
    PORT: '0',
    FIRST_POLL_AFTER_MS: '1500',
    MAX_POLL_INTERVAL_MS: '3000',
    RESULT_DEADLINE_MS: '60000',
    UPLOAD_CONFIRM_TIMEOUT_MS: '8000',
    RATE_LIMIT_BACKOFF_MS: '200',
    WORKER_CONCURRENCY: '16',
    ...opts.env,
  });
  const configFor = (role: PipelineRole) => opts.configFor?.(role, base) ?? base;
  // The webhook URL must point at the server, whose port is known only once it listens: start it,
  // then hand the worker a config with the real PUBLIC_URL.
  const web = await startService({
    config: configFor('webhook'),
    role: 'webhook',
    ...(opts.mount ? { mount: opts.mount } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const workerConfig = { ...configFor('worker'), PUBLIC_URL: web.url! };
  const worker =
    opts.role === 'webhook'
      ? undefined
      : await startService({
          config: workerConfig,
          role: 'worker',
          worker: { lockDurationMs: 5000 },
          ...(opts.logger ? { logger: opts.logger } : {}),
        });
  const producerConfig = configFor('producer');
  const redis = (await connectRedis(producerConfig)) as Redis;
  const producer = createProducer({ connection: redis, config: producerConfig });
  const svc = { ...web, worker: worker?.worker, config: workerConfig } as RunningService;
  return {
    sim,
    svc,
    workerSvc: worker,
    producer,
    config: workerConfig,
    redis,
    async close() {
      await producer.close();
      await worker?.close();
      await web.close();
      await sim.close();
      redis.disconnect();
    },
  };
}

export async function waitForBatch(p: Pipeline, batchId: string, timeoutMs = 60_000): Promise<BatchStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await readBatchStatus(p.svc, batchId);
    if (s && s.state !== 'running' && s.state !== 'enqueuing') return s;
    if (Date.now() > deadline)
      throw new Error(`batch ${batchId} not finished in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface InvariantReport {
  tasks: number;
  completed: number;
  failed: number;
  objects: number;
  simulatorResults: number;
  recoveredByPolling: number;
}

/**
 * After a batch: every task completed or failed with a reason; every stored object is exactly one
 * simulator result, byte for byte; every completed task has all its outputs; no object stored twice;
 * nothing left in flight; the batch's counters match the queue.
 */
export async function checkInvariants(p: Pipeline, batchId: string): Promise<InvariantReport> {
  const status = await readBatchStatus(p.svc, batchId);
  expect(status).not.toBeNull();
  const tasks = await readBatchTasks(p.svc, batchId, 0, 100_000);
  expect(tasks).toHaveLength(status!.total);
  const byImage = new Map(p.sim.results().map((r) => [r.imageUUID, r]));
  const seenImages = new Set<string>();
  for (const t of tasks) {
    expect(
      ['completed', 'partial', 'failed', 'cancelled'],
      `task ${t.taskUUID} ended (${t.state})`,
    ).toContain(t.state);
    // Every slot ended: stored, or failed with its reason.
    if (t.state === 'partial' || t.state === 'completed')
      expect(t.outputs.length + t.failedSlots.length, `slots of ${t.taskUUID} all ended`).toBe(t.expected);
    if (t.state !== 'completed') expect(t.reason, `${t.state} task ${t.taskUUID} has a reason`).toBeTruthy();
    if (t.state === 'completed') expect(t.outputs).toHaveLength(t.expected);
    for (const o of t.outputs) {
      expect(seenImages.has(o.imageUUID), `image ${o.imageUUID} stored once`).toBe(false);
      seenImages.add(o.imageUUID);
      const sim = byImage.get(o.imageUUID);
      expect(sim, `stored image ${o.imageUUID} was generated by the provider`).toBeDefined();
      const bytes = await p.svc.store.get(o.key);
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(sha).toBe(o.sha256);
      expect(sha, `bytes of ${o.key} equal the provider's`).toBe(sim!.sha256);
    }
  }
  const listed = await p.svc.store.list(p.config.S3_KEY_PREFIX);
  const storedKeys = new Set(tasks.flatMap((t) => t.outputs.map((o) => o.key)));
  expect(new Set(listed.map((l) => l.key)), 'bucket holds exactly the recorded outputs').toEqual(storedKeys);
  const completedTaskImages = p.sim
    .results()
    .filter(
      (r) =>
        !r.error &&
        tasks.some((t) => t.state === 'completed' && t.outputs.some((o) => o.imageUUID === r.imageUUID)),
    );
  expect(completedTaskImages.length).toBe(
    tasks.filter((t) => t.state === 'completed').reduce((s, t) => s + t.expected, 0),
  );
  expect(status!.inFlight, 'nothing left in flight').toBe(0);
  expect(status!.completed).toBe(tasks.filter((t) => t.state === 'completed').length);
  expect(status!.partial).toBe(tasks.filter((t) => t.state === 'partial').length);
  expect(status!.failed).toBe(tasks.filter((t) => t.state === 'failed').length);
  const counts = await p.svc.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  expect((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0), 'no job stuck').toBe(0);
  // A partial task's job completes too (with the outputs it has).
  expect(counts.completed, 'batch counters match the queue').toBe(status!.completed + status!.partial);
  expect(counts.failed, 'batch counters match the queue').toBe(status!.failed);
  const recovered = await (p.workerSvc ?? p.svc).metrics.recoveredByPolling.get();
  return {
    tasks: tasks.length,
    completed: status!.completed,
    failed: status!.failed,
    objects: listed.length,
    simulatorResults: p.sim.results().length,
    recoveredByPolling: recovered.values[0]?.value ?? 0,
  };
}

export type { FaultRates };
