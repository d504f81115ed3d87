// Benchmark 2: how many tasks one worker process keeps in flight (accepted by the provider, not yet
// ended) with a provider latency of seconds, the throughput that achieves against Little's law
// (in-flight ÷ latency), and the worker's peak memory. Worker and webhook server run as processes.
import { Redis } from 'ioredis';
import { createProducer } from '../src/producer/create-producer.js';
import { BatchStore } from '../src/tasks/batch-store.js';
import { TaskKeys } from '../src/tasks/keys.js';
import { openQueue } from '../src/tasks/queue.js';
import { freePort } from '../test/helpers/free-port.js';
import { benchConfig, benchEnv, envInt } from './support/bench-config.js';
import { cpuMeter, peakRssMb, rssMb } from './support/cpu-time.js';
import { startWebhookChild, startWorkerChild } from './support/relay-children.js';
import { atLeastPercent, type BenchModule, type BenchResult, type TargetCheck } from './support/result.js';
import { startServices } from './support/services.js';
import { startSimulatorChild } from './support/simulator-child.js';
import { mean, percentile } from './support/stats.js';
import { benchTasks } from './support/task-inputs.js';
import { peakConcurrency, readTimelines, type TaskTimeline } from './support/task-timeline.js';
import { waitFor } from './support/wait-for.js';

const TARGET_INFLIGHT = 20_000;
const TARGET_EFFICIENCY = 0.9;
const TARGET_PEAK_RSS_MB = 300;
/** The smallest JPGs the contract allows (quality 20, about 7 KB at 1024×1024): see the note below. */
const SMALL_IMAGE_QUALITY = 20;
const SAMPLE_EVERY_MS = 250;
const PROGRESS_EVERY_MS = 10_000;
const RUN_TIMEOUT_MS = 20 * 60_000;
const QUEUE_PREFIX = 'inflight';

interface Sample {
  at: number;
  inflight: number;
  delayed: number;
  ended: number;
  workerRssMb: number;
}

export const inflightCapacity: BenchModule = {
  id: 'inflight',
  title: 'In-flight capacity',
  async run(): Promise<BenchResult> {
    const tasks = envInt('BENCH_INFLIGHT_TASKS', TARGET_INFLIGHT);
    const latencyMs = envInt('BENCH_INFLIGHT_LATENCY_MS', 5000);
    const concurrency = envInt('BENCH_INFLIGHT_CONCURRENCY', 64);
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild({ min: latencyMs, max: latencyMs });
    const port = await freePort();
    const target = {
      redisUrl: services.redisUrl,
      queuePrefix: QUEUE_PREFIX,
      s3Endpoint: services.s3Endpoint,
      providerUrl: sim.url,
      fetchHost: sim.host,
      port,
    };
    // e.g. "--max-old-space-size=128": Node options for the worker alone (see BENCHMARKS.md on memory).
    const workerNodeOptions = process.env.BENCH_INFLIGHT_WORKER_NODE_OPTIONS ?? '';
    const env = benchEnv(target, { WORKER_CONCURRENCY: String(concurrency) });
    const config = benchConfig(target);
    const connection = new Redis(services.redisUrl);
    const queue = openQueue(config, connection);
    const keys = new TaskKeys(config.QUEUE_PREFIX, config.QUEUE_NAME);
    const batches = new BatchStore(connection, keys);
    const stops: (() => Promise<void>)[] = [];
    try {
      const webhook = await startWebhookChild(env, port);
      stops.push(webhook.stop);
      const input = benchTasks(tasks, SMALL_IMAGE_QUALITY);
      const producer = createProducer({ connection, config });
      const { batchId } = await producer.enqueueBatch(input);
      await producer.close();
      const redisBefore = await usedMemoryMb(connection);
      const cpu = cpuMeter({ simulator: sim.pid, webhook: webhook.pid, redis: services.redisPid });
      const worker = await startWorkerChild(
        workerNodeOptions ? { ...env, NODE_OPTIONS: workerNodeOptions } : env,
        async () => (await connection.zcard(keys.inflight())) > 0,
      );
      stops.unshift(worker.stop);
      const workerCpu = cpuMeter({ worker: worker.pid });
      const samples = await sampleUntilDone(connection, queue, batches, keys, batchId, tasks, worker.pid);
      const peakRss = peakRssMb(worker.pid);
      const redisPeak = await peakMemoryMb(connection);
      const cpuMs = { ...workerCpu.stop(), ...cpu.stop() };
      const timelines = await readTimelines(
        connection,
        config.QUEUE_PREFIX,
        config.QUEUE_NAME,
        input.map((t) => t.taskUUID),
      );
      return report({
        tasks,
        latencyMs,
        concurrency,
        samples,
        timelines,
        peakRss,
        cpuMs,
        redisMb: redisPeak - redisBefore,
        workerNodeOptions,
      });
    } finally {
      for (const stop of stops) await stop();
      await queue.close();
      connection.disconnect();
      await sim.stop();
      await services.stop();
    }
  },
};

async function usedMemoryMb(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]) / 2 ** 20;
}

async function peakMemoryMb(redis: Redis): Promise<number> {
  return Number(/used_memory_peak:(\d+)/.exec(await redis.info('memory'))?.[1]) / 2 ** 20;
}

async function sampleUntilDone(
  redis: Redis,
  queue: ReturnType<typeof openQueue>,
  batches: BatchStore,
  keys: TaskKeys,
  batchId: string,
  tasks: number,
  workerPid: number,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let lastLog = Date.now();
  await waitFor(
    'every in-flight task to end',
    async () => {
      const [inflight, delayed, b] = await Promise.all([
        redis.zcard(keys.inflight()),
        queue.getDelayedCount(),
        batches.get(batchId),
      ]);
      const ended = (b?.completed ?? 0) + (b?.failed ?? 0) + (b?.cancelled ?? 0);
      samples.push({ at: Date.now(), inflight, delayed, ended, workerRssMb: rssMb(workerPid) });
      if (Date.now() - lastLog > PROGRESS_EVERY_MS) {
        lastLog = Date.now();
        console.log(`  inflight: ${inflight} in flight, ${delayed} parked, ${ended}/${tasks} ended`);
      }
      if (b && b.failed + b.cancelled > 0)
        throw new Error(`${b.failed} tasks failed, ${b.cancelled} cancelled`);
      return ended >= tasks;
    },
    { timeoutMs: RUN_TIMEOUT_MS, everyMs: SAMPLE_EVERY_MS },
  );
  return samples;
}

function report(r: {
  tasks: number;
  latencyMs: number;
  concurrency: number;
  samples: Sample[];
  timelines: TaskTimeline[];
  peakRss: number;
  cpuMs: Record<string, number>;
  /** Redis memory growth from before the worker started to its peak. */
  redisMb: number;
  workerNodeOptions: string;
}): BenchResult {
  const t = r.timelines;
  const firstSubmit = Math.min(...t.map((x) => x.submittedAt));
  const lastSubmit = Math.max(...t.map((x) => x.submittedAt));
  const lastEnd = Math.max(...t.map((x) => x.finishedAt));
  const spanSec = (lastEnd - firstSubmit) / 1000;
  const inFlightMs = t.map((x) => x.finishedAt - x.submittedAt);
  // Little's law over the run: mean in flight L = X·W, with X = tasks/span and W = mean time in flight.
  const throughput = r.tasks / spanSec;
  const meanInflight = inFlightMs.reduce((a, b) => a + b, 0) / 1000 / spanSec;
  const efficiency = throughput / (meanInflight / (r.latencyMs / 1000));
  const peak = peakConcurrency(t);
  const providerLateMs = t.map((x) => x.receivedAt - x.submittedAt - r.latencyMs);
  const relayAfterMs = t.map((x) => x.finishedAt - x.receivedAt);
  const peakParked = Math.max(...r.samples.map((s) => s.delayed));
  // Once every task is submitted the worker only stores: its storing rate on its own.
  const storedAfter = t.filter((x) => x.finishedAt > lastSubmit).length;
  const storeRate = storedAfter / ((lastEnd - lastSubmit) / 1000);
  const targets: TargetCheck[] = [
    {
      label: 'tasks in flight at once, one worker',
      goal: `≥ ${TARGET_INFLIGHT.toLocaleString('en')}`,
      actual: peak.toLocaleString('en'),
      met: peak >= TARGET_INFLIGHT,
      ...(peak >= TARGET_INFLIGHT
        ? {}
        : { shortfall: `${(TARGET_INFLIGHT - peak).toLocaleString('en')} short` }),
    },
    atLeastPercent("Little's-law efficiency", efficiency, TARGET_EFFICIENCY, '≥ 90%'),
    {
      label: 'worker peak RSS',
      goal: `< ${TARGET_PEAK_RSS_MB} MB`,
      actual: `${r.peakRss.toFixed(0)} MB`,
      met: r.peakRss < TARGET_PEAK_RSS_MB,
      ...(r.peakRss < TARGET_PEAK_RSS_MB
        ? {}
        : { shortfall: `${(r.peakRss - TARGET_PEAK_RSS_MB).toFixed(0)} MB over` }),
    },
  ];
  return {
    id: 'inflight',
    title: 'In-flight capacity',
    at: new Date().toISOString(),
    params: {
      tasks: r.tasks,
      'simulator latency ms': r.latencyMs,
      'worker concurrency': r.concurrency,
      image: `1024×1024 JPG q${SMALL_IMAGE_QUALITY}`,
      ...(r.workerNodeOptions ? { 'worker NODE_OPTIONS': r.workerNodeOptions } : {}),
    },
    figures: [
      { label: 'peak tasks in flight (from task records)', value: peak, unit: 'tasks' },
      {
        label: 'peak size of the inflight sorted set (sampled)',
        value: Math.max(...r.samples.map((s) => s.inflight)),
        unit: 'tasks',
      },
      { label: 'peak jobs parked in the delayed set (sampled)', value: peakParked, unit: 'jobs' },
      {
        label: 'submit rate (first to last accepted submit)',
        value: r.tasks / ((lastSubmit - firstSubmit) / 1000),
        unit: 'tasks/s',
      },
      { label: 'store rate (last submit to last end)', value: storeRate, unit: 'tasks/s' },
      { label: 'throughput X (first submit to last end)', value: throughput, unit: 'tasks/s' },
      { label: 'mean in flight L', value: meanInflight, unit: 'tasks' },
      { label: 'Little bound L ÷ latency', value: meanInflight / (r.latencyMs / 1000), unit: 'tasks/s' },
      { label: "Little's-law efficiency X ÷ (L ÷ latency)", value: efficiency, unit: 'ratio' },
      { label: 'mean time in flight', value: mean(inFlightMs) / 1000, unit: 's' },
      {
        label: 'provider side: result webhook later than latency, p50',
        value: percentile(providerLateMs, 50),
        unit: 'ms',
      },
      {
        label: 'provider side: result webhook later than latency, p99',
        value: percentile(providerLateMs, 99),
        unit: 'ms',
      },
      {
        label: 'relay side: webhook received to task ended, p50',
        value: percentile(relayAfterMs, 50) / 1000,
        unit: 's',
      },
      {
        label: 'relay side: webhook received to task ended, p99',
        value: percentile(relayAfterMs, 99) / 1000,
        unit: 's',
      },
      { label: 'worker peak RSS (VmHWM)', value: r.peakRss, unit: 'MB' },
      { label: 'worker RSS when it started', value: r.samples[0]?.workerRssMb ?? Number.NaN, unit: 'MB' },
      { label: 'Redis peak memory above the enqueued state', value: r.redisMb, unit: 'MB' },
      ...Object.entries(r.cpuMs).map(([k, ms]) => ({
        label: `CPU per task: ${k}`,
        value: ms / r.tasks,
        unit: 'ms',
      })),
    ],
    targets,
    samples: {
      inflight: r.samples.map((s) => s.inflight),
      parked: r.samples.map((s) => s.delayed),
      workerRssMb: r.samples.map((s) => Math.round(s.workerRssMb)),
    },
    notes: [],
  };
}
