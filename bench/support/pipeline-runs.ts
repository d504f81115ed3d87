// The three timed runs the throughput and Redis benchmarks share, each on fresh keys and bucket: the
// relay as deployed (producer here → worker process → simulator → webhook process → S3), the queue's ceiling (a bare BullMQ
// worker making one HTTP POST per job) and the storage ceiling (a raw S3 PUT loop of the same images).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { createProducer } from '../../src/producer/create-producer.js';
import { DEFAULT_BATCH_LANE } from '../../src/producer/enqueue-batch.js';
import { assembleImage, renderBase } from '../../src/simulator/render-image.js';
import { DEFAULT_OUTPUT_QUALITY } from '../../src/simulator/task-runner.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { JOB_NAME } from '../../src/tasks/job-data.js';
import { taskJobOptions } from '../../src/tasks/job-options.js';
import { bullPrefix } from '../../src/tasks/keys.js';
import { openQueue } from '../../src/tasks/queue.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { freePort } from '../../test/helpers/free-port.js';
import { BENCH_API_KEY, benchConfig, benchEnv } from './bench-config.js';
import type { Child } from './children.js';
import { cpuMeter } from './cpu-time.js';
import { startWebhookChild, startWorkerChild } from './relay-children.js';
import type { Services } from './services.js';
import type { SimulatorChild } from './simulator-child.js';
import { benchTasks, IMAGE_SIDE } from './task-inputs.js';
import { waitFor } from './wait-for.js';

/** The simulator's palette size: the storage ceiling cycles through the same base images. */
const PALETTE = 16;
/** A run that takes longer than this is reported as a failure rather than waited for. */
const RUN_TIMEOUT_MS = 600_000;
const DEFAULT_POLL_MS = 20;

export interface PipelineCtx {
  services: Services;
  sim: SimulatorChild;
  tasks: number;
  concurrency: number;
}

export interface RunHooks {
  /** Runs once the run's connections are open, right before the tasks are enqueued. */
  beforeEnqueue?: () => Promise<void>;
  /**
   * Runs after the tasks are enqueued, before the timed part starts (e.g. reset Redis stats); a relay
   * run passes its processes' pids.
   */
  afterEnqueue?: (pids?: RelayPids) => Promise<void>;
  /** Relay runs: at the end of the timed part, while the relay's processes still run. */
  beforeStop?: (pids: RelayPids) => Promise<void>;
  /** Relay runs: Node flags for the relay's processes (after tsx's), and environment to add. */
  childNodeArgs?: string[];
  childEnv?: Record<string, string>;
  /** How often completion is polled; each poll is one Redis command the caller may subtract. */
  pollEveryMs?: number;
}

/** One timed run: items per second, CPU ms per item by process, and how many completion polls ran. */
export interface RunOutcome {
  perSecond: number;
  cpuMsPerItem: Record<string, number>;
  polls: number;
}

/** The relay's processes in a relay run. */
export interface RelayPids {
  worker: number;
  webhook: number;
}

export type PipelineRun = (ctx: PipelineCtx, tag: string, hooks?: RunHooks) => Promise<RunOutcome>;

/** Starts the clock and the CPU meter on every process of a run: this one, simulator, S3, Redis. */
function startTiming(ctx: PipelineCtx, relay?: RelayPids) {
  const m = cpuMeter({
    ...relay,
    bench: undefined,
    simulator: ctx.sim.pid,
    s3rver: ctx.services.s3Pid,
    redis: ctx.services.redisPid,
  });
  const started = performance.now();
  return (items: number, polls: number): RunOutcome => {
    const seconds = (performance.now() - started) / 1000;
    const cpu = m.stop();
    return {
      perSecond: items / seconds,
      cpuMsPerItem: Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, ms / items])),
      polls,
    };
  };
}

/**
 * The relay as deployed: the webhook server and the worker each in its own process (`serve --role`),
 * tasks enqueued as one batch while the queue is paused, timed from resume to the batch's end.
 */
export const relayRun: PipelineRun = async (ctx, tag, hooks = {}) => {
  const port = await freePort();
  const metricsPort = await freePort();
  const target = {
    redisUrl: ctx.services.redisUrl,
    queuePrefix: `run-${tag}`,
    s3Endpoint: ctx.services.s3Endpoint,
    bucket: `run-${tag}`,
    providerUrl: ctx.sim.url,
    fetchHost: ctx.sim.host,
    port,
  };
  const extra = { WORKER_CONCURRENCY: String(ctx.concurrency), ...hooks.childEnv };
  const config = benchConfig(target, extra);
  const env = benchEnv(target, extra);
  const connection = new Redis(ctx.services.redisUrl);
  const queue = openQueue(config, connection);
  const producer = createProducer({ connection, config });
  const batches = new BatchStore(
    connection,
    new TaskStore(connection, config.QUEUE_PREFIX, config.QUEUE_NAME).keys,
  );
  const children: Child[] = [];
  try {
    // Paused first: the worker starts idle, so its start-up is outside the timed part.
    await queue.pause();
    const webhook = await startWebhookChild(env, port, hooks.childNodeArgs);
    children.push(webhook);
    const worker = await startWorkerChild(
      { ...env, METRICS_PORT: String(metricsPort) },
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok,
      hooks.childNodeArgs,
    );
    children.push(worker);
    const pids = { worker: worker.pid, webhook: webhook.pid };
    const input = benchTasks(ctx.tasks);
    await hooks.beforeEnqueue?.();
    const { batchId } = await producer.enqueueBatch(input);
    await hooks.afterEnqueue?.(pids);
    let polls = 0;
    const done = startTiming(ctx, pids);
    await queue.resume();
    const b = await waitFor(
      'the relay batch to end',
      async () => {
        polls++;
        const rec = await batches.get(batchId);
        return rec && rec.completed + rec.failed + rec.cancelled >= ctx.tasks ? rec : null;
      },
      { timeoutMs: RUN_TIMEOUT_MS, everyMs: hooks.pollEveryMs ?? DEFAULT_POLL_MS },
    );
    const outcome = done(ctx.tasks, polls);
    await hooks.beforeStop?.(pids);
    if (b.failed + b.cancelled > 0)
      throw new Error(`relay run ${tag}: ${b.failed} failed, ${b.cancelled} cancelled`);
    return outcome;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await producer.close();
    await queue.close();
    connection.disconnect();
  }
};

/** The queue's ceiling: the same jobs (same options), a bare Worker whose processor is one POST. */
export const queueCeilingRun: PipelineRun = async (ctx, tag, hooks = {}) => {
  const prefix = bullPrefix(`run-${tag}`);
  const connection = new Redis(ctx.services.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(ctx.services.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench', { connection, prefix });
  const agent = new Agent({ connections: ctx.concurrency });
  const tasks = benchTasks(ctx.tasks);
  const enqueuedAt = Date.now();
  await hooks.beforeEnqueue?.();
  await queue.addBulk(
    tasks.map((task) => ({
      name: JOB_NAME,
      data: { task, enqueuedAt },
      opts: taskJobOptions(task.taskUUID, 1, DEFAULT_BATCH_LANE),
    })),
  );
  await hooks.afterEnqueue?.();
  let completed = 0;
  const worker = new Worker(
    'bench',
    async (job) => {
      // A getResponse for the job's task: one real request to the same provider, cheap to answer.
      const res = await request(ctx.sim.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
        body: JSON.stringify([{ taskType: 'getResponse', taskUUID: job.id }]),
      });
      await res.body.text();
    },
    { connection: workerConnection, prefix, concurrency: ctx.concurrency, autorun: false },
  );
  worker.on('completed', () => {
    completed++;
  });
  try {
    const done = startTiming(ctx);
    const running = worker.run();
    // Counted in this process: polling costs Redis nothing.
    await waitFor('the bare worker to drain', async () => completed >= ctx.tasks, {
      timeoutMs: RUN_TIMEOUT_MS,
      everyMs: hooks.pollEveryMs ?? DEFAULT_POLL_MS,
    });
    const outcome = done(ctx.tasks, 0);
    await worker.close();
    await running;
    return outcome;
  } finally {
    await worker.close();
    await queue.close();
    await agent.close();
    connection.disconnect();
    workerConnection.disconnect();
  }
};

/** The storage ceiling: the simulator's 1024×1024 JPGs PUT straight to the S3 server, same concurrency. */
export const storageCeilingRun: PipelineRun = async (ctx, tag) => {
  const config = benchConfig({
    redisUrl: ctx.services.redisUrl,
    queuePrefix: `run-${tag}`,
    s3Endpoint: ctx.services.s3Endpoint,
    bucket: `run-${tag}`,
  });
  await ObjectStore.fromConfig(config).ensureBucket();
  const client = createS3Client(config);
  const tasks = benchTasks(ctx.tasks);
  const images = await Promise.all(
    tasks.map(async (t, i) => {
      const spec = {
        width: IMAGE_SIDE,
        height: IMAGE_SIDE,
        format: 'JPG' as const,
        quality: DEFAULT_OUTPUT_QUALITY,
        colour: i % PALETTE,
      };
      return assembleImage(await renderBase(spec), spec, t.taskUUID);
    }),
  );
  let next = 0;
  try {
    const done = startTiming(ctx);
    await Promise.all(
      Array.from({ length: ctx.concurrency }, async () => {
        for (let i = next++; i < ctx.tasks; i = next++) {
          await client.send(
            new PutObjectCommand({
              Bucket: config.S3_BUCKET,
              Key: `${config.S3_KEY_PREFIX}${tasks[i]!.taskUUID}/0.jpg`,
              Body: images[i]!,
              ContentLength: images[i]!.length,
              ContentType: 'image/jpeg',
            }),
          );
        }
      }),
    );
    return done(ctx.tasks, 0);
  } finally {
    client.destroy();
  }
};
