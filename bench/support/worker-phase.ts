// One phase of the in-flight benchmark: a batch enqueued, then one worker process (with a webhook
// server process and a simulator of the given latency) working on it until every task is in flight or
// every task has ended, sampled every 250 ms; the worker's peak RSS is read before it is stopped.
import { Redis } from 'ioredis';
import { createProducer } from '../../src/producer/create-producer.js';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskKeys } from '../../src/tasks/keys.js';
import { openQueue } from '../../src/tasks/queue.js';
import { freePort } from '../../test/helpers/free-port.js';
import { benchConfig, benchEnv } from './bench-config.js';
import { cpuMeter, peakRssMb, rssMb } from './cpu-time.js';
import { startWebhookChild, startWorkerChild } from './relay-children.js';
import type { Services } from './services.js';
import { startSimulatorChild } from './simulator-child.js';
import { benchTasks } from './task-inputs.js';
import { readTimelines, type TaskTimeline } from './task-timeline.js';
import { waitFor } from './wait-for.js';

/** The smallest JPGs the contract allows (quality 20, about 7 KB at 1024×1024). */
export const SMALL_IMAGE_QUALITY = 20;
const SAMPLE_EVERY_MS = 250;
const PROGRESS_EVERY_MS = 10_000;
const PHASE_TIMEOUT_MS = 20 * 60_000;
const PACE_TICK_MS = 50;

export interface Sample {
  at: number;
  inflight: number;
  parked: number;
  ended: number;
  workerRssMb: number;
}

export interface PhaseOptions {
  tag: string;
  tasks: number;
  latencyMs: number;
  concurrency: number;
  /** NODE_OPTIONS for the worker alone, e.g. "--max-old-space-size=128". */
  workerNodeOptions: string;
  /** Stop once every task is in flight (nothing stored), or once every task has ended. */
  until: 'all-in-flight' | 'all-ended';
  /**
   * Tasks per second arriving while the worker runs (an open system); without it, the whole batch is
   * enqueued before the worker starts.
   */
  arrivalRate?: number;
}

export interface PhaseResult {
  samples: Sample[];
  timelines: TaskTimeline[];
  peakRssMb: number;
  /** Redis memory growth from the enqueued state to its peak during the phase. */
  redisMb: number;
  cpuMs: Record<string, number>;
}

export async function runWorkerPhase(services: Services, o: PhaseOptions): Promise<PhaseResult> {
  await services.redis.flushall();
  const sim = await startSimulatorChild({ min: o.latencyMs, max: o.latencyMs });
  const port = await freePort();
  const target = {
    redisUrl: services.redisUrl,
    queuePrefix: `inflight-${o.tag}`,
    s3Endpoint: services.s3Endpoint,
    providerUrl: sim.url,
    fetchHost: sim.host,
    port,
  };
  const env = benchEnv(target, { WORKER_CONCURRENCY: String(o.concurrency) });
  const config = benchConfig(target);
  const redis = new Redis(services.redisUrl);
  const queue = openQueue(config, redis);
  const keys = new TaskKeys(config.QUEUE_PREFIX, config.QUEUE_NAME);
  const stops: (() => Promise<void>)[] = [sim.stop];
  try {
    const webhook = await startWebhookChild(env, port);
    stops.unshift(webhook.stop);
    const input = benchTasks(o.tasks, SMALL_IMAGE_QUALITY);
    const producer = createProducer({ connection: redis, config });
    stops.push(() => producer.close());
    const batchId = `phase-${o.tag}`;
    if (!o.arrivalRate) await producer.enqueueBatch(input, { batchId });
    const redisBefore = await memoryMb(redis, 'used_memory');
    const cpu = cpuMeter({ simulator: sim.pid, webhook: webhook.pid, redis: services.redisPid });
    const worker = await startWorkerChild(
      o.workerNodeOptions ? { ...env, NODE_OPTIONS: o.workerNodeOptions } : env,
      async () => (await queue.getWorkersCount()) > 0,
    );
    stops.unshift(worker.stop);
    const workerCpu = cpuMeter({ worker: worker.pid });
    const arriving = o.arrivalRate
      ? pace(input, o.arrivalRate, (chunk) => producer.enqueueBatch(chunk, { batchId, onInvalid: 'skip' }))
      : undefined;
    const batches = new BatchStore(redis, keys);
    const samples: Sample[] = [];
    let lastLog = Date.now();
    await waitFor(
      o.until === 'all-ended' ? 'every task to end' : 'every task to be in flight',
      async () => {
        const [inflight, parked, b] = await Promise.all([
          redis.zcard(keys.inflight()),
          queue.getDelayedCount(),
          batches.get(batchId),
        ]);
        const ended = (b?.completed ?? 0) + (b?.failed ?? 0) + (b?.cancelled ?? 0);
        samples.push({ at: Date.now(), inflight, parked, ended, workerRssMb: rssMb(worker.pid) });
        if (Date.now() - lastLog > PROGRESS_EVERY_MS) {
          lastLog = Date.now();
          console.log(
            `  inflight ${o.tag}: ${inflight} in flight, ${parked} parked, ${ended}/${o.tasks} ended`,
          );
        }
        if (b && b.failed + b.cancelled > 0)
          throw new Error(`${b.failed} tasks failed, ${b.cancelled} cancelled`);
        // A result back before the last submit ends the capacity phase: holding is what it measures.
        return o.until === 'all-ended' ? ended >= o.tasks : inflight >= o.tasks || ended > 0;
      },
      { timeoutMs: PHASE_TIMEOUT_MS, everyMs: SAMPLE_EVERY_MS },
    );
    await arriving;
    const peak = peakRssMb(worker.pid);
    const redisMb = (await memoryMb(redis, 'used_memory_peak')) - redisBefore;
    const cpuMs = { ...workerCpu.stop(), ...cpu.stop() };
    const timelines = await readTimelines(
      redis,
      config.QUEUE_PREFIX,
      config.QUEUE_NAME,
      input.map((t) => t.taskUUID),
    );
    return { samples, timelines, peakRssMb: peak, redisMb, cpuMs };
  } finally {
    for (const stop of stops) await stop();
    await queue.close();
    redis.disconnect();
  }
}

/** Hands `items` to `send` at `perSecond`, in small chunks on a fixed schedule (no drift). */
async function pace<T>(items: T[], perSecond: number, send: (chunk: T[]) => Promise<unknown>): Promise<void> {
  const started = Date.now();
  let sent = 0;
  while (sent < items.length) {
    const due = Math.min(items.length, Math.floor(((Date.now() - started) / 1000) * perSecond) + 1);
    if (due > sent) {
      await send(items.slice(sent, due));
      sent = due;
    }
    await new Promise((r) => setTimeout(r, PACE_TICK_MS));
  }
}

async function memoryMb(redis: Redis, field: 'used_memory' | 'used_memory_peak'): Promise<number> {
  const info = await redis.info('memory');
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1]) / 2 ** 20;
}
