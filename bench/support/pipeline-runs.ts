// The three timed runs the throughput and Redis benchmarks share, each on fresh keys and bucket: the
// relay itself (producer → worker → simulator → webhook → S3), the queue's ceiling (a bare BullMQ
// worker making one HTTP POST per job) and the storage ceiling (a raw S3 PUT loop of the same images).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { createProducer } from '../../src/producer/create-producer.js';
import { DEFAULT_BATCH_LANE } from '../../src/producer/enqueue-batch.js';
import { startService } from '../../src/service/start-service.js';
import { assembleImage, renderBase } from '../../src/simulator/render-image.js';
import { DEFAULT_OUTPUT_QUALITY } from '../../src/simulator/task-runner.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { JOB_NAME } from '../../src/tasks/job-data.js';
import { taskJobOptions } from '../../src/tasks/job-options.js';
import { bullPrefix } from '../../src/tasks/keys.js';
import { freePort } from '../../test/helpers/free-port.js';
import { BENCH_API_KEY, benchConfig } from './bench-config.js';
import { cpuMeter } from './cpu-time.js';
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
  /** Runs after the tasks are enqueued, before the timed part starts (e.g. reset Redis stats). */
  afterEnqueue?: () => Promise<void>;
  /** How often completion is polled; each poll is one Redis command the caller may subtract. */
  pollEveryMs?: number;
}

/** One timed run: items per second, CPU ms per item by process, and how many completion polls ran. */
export interface RunOutcome {
  perSecond: number;
  cpuMsPerItem: Record<string, number>;
  polls: number;
}

export type PipelineRun = (ctx: PipelineCtx, tag: string, hooks?: RunHooks) => Promise<RunOutcome>;

/** Starts the clock and the CPU meter on every process of a run: this one, simulator, S3, Redis. */
function startTiming(ctx: PipelineCtx) {
  const m = cpuMeter({
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

/** The relay, in this process: tasks enqueued as one batch first, timed from worker start to batch end. */
export const relayRun: PipelineRun = async (ctx, tag, hooks = {}) => {
  const port = await freePort();
  const config = benchConfig(
    {
      redisUrl: ctx.services.redisUrl,
      queuePrefix: `run-${tag}`,
      s3Endpoint: ctx.services.s3Endpoint,
      bucket: `run-${tag}`,
      providerUrl: ctx.sim.url,
      fetchHost: ctx.sim.host,
      port,
    },
    { WORKER_CONCURRENCY: String(ctx.concurrency) },
  );
  const svc = await startService({ config, role: 'all', worker: { autorun: false } });
  const connection = new Redis(ctx.services.redisUrl);
  const producer = createProducer({ connection, config });
  try {
    const input = benchTasks(ctx.tasks);
    await hooks.beforeEnqueue?.();
    const { batchId } = await producer.enqueueBatch(input);
    await hooks.afterEnqueue?.();
    let polls = 0;
    const done = startTiming(ctx);
    const running = svc.worker!.run();
    const b = await waitFor(
      'the relay batch to end',
      async () => {
        polls++;
        const rec = await svc.batches.get(batchId);
        return rec && rec.completed + rec.failed + rec.cancelled >= ctx.tasks ? rec : null;
      },
      { timeoutMs: RUN_TIMEOUT_MS, everyMs: hooks.pollEveryMs ?? DEFAULT_POLL_MS },
    );
    const outcome = done(ctx.tasks, polls);
    if (b.failed + b.cancelled > 0)
      throw new Error(`relay run ${tag}: ${b.failed} failed, ${b.cancelled} cancelled`);
    await svc.close();
    await running;
    return outcome;
  } finally {
    await producer.close();
    connection.disconnect();
    await svc.close().catch(() => undefined);
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
