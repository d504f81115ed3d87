// Benchmark: fair share across tenants under one provider limit (issue 14). One relay (worker and
// webhook server in this process), the simulator in its own process at a median latency of 1.5 s, and
// MAX_IN_FLIGHT 200. Three scenarios, each on fresh keys: one tenant's 20,000 tasks with ten tenants of
// 200 arriving while it runs (Jain's index, small tenants' waits, the cap's utilisation while the big
// tenant ran alone); one small tenant alone (its wait, the baseline of the wait target); two tenants
// weighted 3:1 (their shares).
import { Redis } from 'ioredis';
import { createProducer, type Producer } from '../src/producer/create-producer.js';
import { type RunningService, startService } from '../src/service/start-service.js';
import { freePort } from '../test/helpers/free-port.js';
import { benchConfig, envInt } from './support/bench-config.js';
import { countIn, jainIndex, type Submitted, utilisation, windowedJain } from './support/fair-share-stats.js';
import type { BenchModule, BenchResult, Figure, TargetCheck } from './support/result.js';
import { type Services, startServices } from './support/services.js';
import { type SimulatorChild, startSimulatorChild } from './support/simulator-child.js';
import { mean, median, percentile } from './support/stats.js';
import { benchTasks } from './support/task-inputs.js';
import { readTimelines, type TaskTimeline } from './support/task-timeline.js';
import { waitFor } from './support/wait-for.js';
import { SMALL_IMAGE_QUALITY } from './support/worker-phase.js';

const TARGET_JAIN = 0.95;
const TARGET_UTILISATION = 0.95;
const TARGET_WEIGHT_RATIO = 3;
const WEIGHT_TOLERANCE = 0.1;
const PHASE_TIMEOUT_MS = 900_000;
const POLL_MS = 100;
/** Utilisation is measured over this last stretch of the big tenant's solo phase (steady state). */
const UTILISATION_WINDOW_MS = 10_000;

interface Params {
  cap: number;
  bigTasks: number;
  smallTenants: number;
  smallTasks: number;
  weightTasks: number;
  latency: { min: number; max: number };
  leadMs: number;
  windowMs: number;
  concurrency: number;
}

function params(): Params {
  const latencyMedian = envInt('BENCH_FAIR_LATENCY_MS', 1500);
  return {
    cap: envInt('BENCH_FAIR_CAP', 200),
    bigTasks: envInt('BENCH_FAIR_BIG_TASKS', 20_000),
    smallTenants: envInt('BENCH_FAIR_SMALL_TENANTS', 10),
    smallTasks: envInt('BENCH_FAIR_SMALL_TASKS', 200),
    weightTasks: envInt('BENCH_FAIR_WEIGHT_TASKS', 1500),
    // Uniform around the median: ±1/3 of it (1.0–2.0 s for 1.5 s).
    latency: { min: Math.round((latencyMedian * 2) / 3), max: Math.round((latencyMedian * 4) / 3) },
    leadMs: envInt('BENCH_FAIR_LEAD_MS', 25_000),
    windowMs: envInt('BENCH_FAIR_WINDOW_MS', 2000),
    concurrency: envInt('BENCH_FAIR_CONCURRENCY', 64),
  };
}

interface Relay {
  svc: RunningService;
  producer: Producer;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

async function openRelay(services: Services, sim: SimulatorChild, tag: string, p: Params): Promise<Relay> {
  const prefix = `fair-${tag}`;
  const config = benchConfig(
    {
      redisUrl: services.redisUrl,
      queuePrefix: prefix,
      s3Endpoint: services.s3Endpoint,
      bucket: `fair-${tag}`,
      providerUrl: sim.url,
      fetchHost: sim.host,
      port: await freePort(),
    },
    { WORKER_CONCURRENCY: String(p.concurrency), MAX_IN_FLIGHT: String(p.cap) },
  );
  const svc = await startService({ config, role: 'all' });
  const redis = new Redis(services.redisUrl);
  const producer = createProducer({ connection: redis, config });
  return {
    svc,
    producer,
    redis,
    prefix,
    async close() {
      await producer.close();
      await svc.close();
      redis.disconnect();
    },
  };
}

interface Enqueued {
  tenant: string;
  batchId: string;
  taskUUIDs: string[];
  enqueuedAt: number;
}

async function enqueue(relay: Relay, tenant: string, count: number): Promise<Enqueued> {
  const tasks = benchTasks(count, SMALL_IMAGE_QUALITY);
  const enqueuedAt = Date.now();
  const { batchId } = await relay.producer.enqueueBatch(tasks, { tenant });
  return { tenant, batchId, taskUUIDs: tasks.map((t) => t.taskUUID), enqueuedAt };
}

async function ended(relay: Relay, e: Enqueued): Promise<boolean> {
  const b = await relay.svc.batches.get(e.batchId);
  return b !== null && b.completed + b.failed + b.cancelled >= e.taskUUIDs.length;
}

async function timelines(relay: Relay, e: Enqueued): Promise<(TaskTimeline & { tenant: string })[]> {
  const t = await readTimelines(relay.redis, relay.prefix, 'bench', e.taskUUIDs);
  return t.map((x) => ({ ...x, tenant: e.tenant }));
}

const submitted = (xs: readonly (TaskTimeline & { tenant: string })[]): Submitted[] =>
  xs.filter((x) => Number.isFinite(x.submittedAt));

/** p95 of enqueue → submit of every task of `e`, ms. */
function p95Wait(e: Enqueued, t: readonly TaskTimeline[]): number {
  return percentile(
    t.map((x) => x.submittedAt - e.enqueuedAt),
    95,
  );
}

async function mixedScenario(services: Services, sim: SimulatorChild, p: Params) {
  const relay = await openRelay(services, sim, 'mixed', p);
  try {
    const started = Date.now();
    const big = await enqueue(relay, 'big', p.bigTasks);
    console.log(`  fairness: big tenant enqueued ${p.bigTasks} in ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, Math.max(0, started + p.leadMs - Date.now())));
    const smallAt = Date.now();
    const smalls = await Promise.all(
      Array.from({ length: p.smallTenants }, (_, i) => enqueue(relay, `small-${i + 1}`, p.smallTasks)),
    );
    await waitFor(
      'every small tenant to end',
      async () => (await Promise.all(smalls.map((s) => ended(relay, s)))).every(Boolean),
      {
        timeoutMs: PHASE_TIMEOUT_MS,
        everyMs: POLL_MS,
      },
    );
    const endAt = Date.now();
    const bigT = await timelines(relay, big);
    const smallT = await Promise.all(smalls.map((s) => timelines(relay, s)));
    const all = [...submitted(bigT), ...smallT.flatMap(submitted)];
    // Backlogged: from the moment every small tenant has had a first task submitted to the moment
    // the first of them had its last one submitted.
    const from = Math.max(...smallT.map((t) => Math.min(...t.map((x) => x.submittedAt))));
    const to = Math.min(...smallT.map((t) => Math.max(...t.map((x) => x.submittedAt))));
    const tenants = ['big', ...smalls.map((s) => s.tenant)];
    const jain = windowedJain(all, tenants, from, to, p.windowMs);
    const waits = smalls.map((s, i) => p95Wait(s, smallT[i]!));
    const utilFrom = Math.max(started, smallAt - UTILISATION_WINDOW_MS);
    const util = utilisation(bigT, utilFrom, smallAt, p.cap);
    const bigShare =
      countIn(all, 'big', from, to) / all.filter((x) => x.submittedAt >= from && x.submittedAt < to).length;
    const throughput =
      all.filter((x) => x.submittedAt >= smallAt && x.submittedAt < endAt).length /
      ((endAt - smallAt) / 1000);
    return {
      jain,
      waits,
      util,
      bigShare,
      backloggedMs: to - from,
      throughput,
      wholeJain: jainIndex(tenants.map((t) => countIn(all, t, from, to))),
    };
  } finally {
    await relay.close();
  }
}

async function aloneScenario(services: Services, sim: SimulatorChild, p: Params) {
  const relay = await openRelay(services, sim, 'alone', p);
  try {
    const one = await enqueue(relay, 'alone', p.smallTasks);
    await waitFor('the lone tenant to end', () => ended(relay, one), {
      timeoutMs: PHASE_TIMEOUT_MS,
      everyMs: POLL_MS,
    });
    return p95Wait(one, await timelines(relay, one));
  } finally {
    await relay.close();
  }
}

async function weightScenario(services: Services, sim: SimulatorChild, p: Params) {
  const relay = await openRelay(services, sim, 'weights', p);
  try {
    await relay.svc.admission.setTenant('heavy', { weight: TARGET_WEIGHT_RATIO });
    const [heavy, light] = await Promise.all([
      enqueue(relay, 'heavy', p.weightTasks),
      enqueue(relay, 'light', p.weightTasks),
    ]);
    await waitFor('the heavy tenant to end', () => ended(relay, heavy), {
      timeoutMs: PHASE_TIMEOUT_MS,
      everyMs: POLL_MS,
    });
    const h = submitted(await timelines(relay, heavy));
    const l = submitted(await timelines(relay, light));
    // Skip the first fill of the cap (admitted in arrival order before both had registered).
    const from = Math.max(...[h, l].map((t) => Math.min(...t.map((x) => x.submittedAt)))) + p.latency.max;
    const to = Math.max(...h.map((x) => x.submittedAt));
    const all = [...h, ...l];
    return countIn(all, 'heavy', from, to) / countIn(all, 'light', from, to);
  } finally {
    await relay.close();
  }
}

export const fairness: BenchModule = {
  id: 'fairness',
  title: 'Fair share across tenants',
  async run(): Promise<BenchResult> {
    const p = params();
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild(p.latency);
    try {
      const alone = await aloneScenario(services, sim, p);
      console.log(`  fairness: alone p95 wait ${alone} ms`);
      const mixed = await mixedScenario(services, sim, p);
      console.log(`  fairness: Jain mean ${mean(mixed.jain).toFixed(3)} over ${mixed.jain.length} windows`);
      await services.redis.flushall();
      const ratio = await weightScenario(services, sim, p);
      console.log(`  fairness: weights 3:1 gave ${ratio.toFixed(2)}:1`);
      return report(p, alone, mixed, ratio);
    } finally {
      await sim.stop();
      await services.stop();
    }
  },
};

function report(
  p: Params,
  alone: number,
  mixed: Awaited<ReturnType<typeof mixedScenario>>,
  ratio: number,
): BenchResult {
  const latencyMedian = (p.latency.min + p.latency.max) / 2;
  const waitBound = 2 * alone + latencyMedian;
  const worstWait = Math.max(...mixed.waits);
  const jainMean = mean(mixed.jain);
  const ratioOff = Math.abs(ratio / TARGET_WEIGHT_RATIO - 1);
  const figures: Figure[] = [
    { label: "Jain's index per window, mean (all tenants backlogged)", value: jainMean, unit: '' },
    { label: "Jain's index per window, lowest", value: Math.min(...mixed.jain), unit: '' },
    { label: "Jain's index over the whole backlogged stretch", value: mixed.wholeJain, unit: '' },
    {
      label: 'windows while all were backlogged',
      value: mixed.jain.length,
      unit: `× ${p.windowMs / 1000} s`,
    },
    { label: 'big tenant share while all were backlogged', value: mixed.bigShare, unit: 'ratio' },
    {
      label: 'small tenants: p95 wait enqueue → submit, median of tenants',
      value: median(mixed.waits) / 1000,
      unit: 's',
    },
    { label: 'small tenants: p95 wait enqueue → submit, worst tenant', value: worstWait / 1000, unit: 's' },
    { label: 'one small tenant alone: p95 wait enqueue → submit', value: alone / 1000, unit: 's' },
    {
      // Equal shares of the cap among every backlogged tenant: a small tenant's last task is submitted
      // after (tenants + 1) × its tasks admissions, at MAX_IN_FLIGHT ÷ latency admissions per second.
      label: 'fair-share bound for a small tenant’s last submit',
      value: ((p.smallTenants + 1) * p.smallTasks) / (p.cap / (latencyMedian / 1000)),
      unit: 's',
    },
    { label: 'submissions while small tenants ran', value: mixed.throughput, unit: 'tasks/s' },
    { label: 'cap utilisation, big tenant alone', value: mixed.util, unit: 'ratio' },
    { label: 'weights 3:1, admitted ratio', value: ratio, unit: ': 1' },
  ];
  const targets: TargetCheck[] = [
    {
      label: "Jain's index per window (mean), equal weights",
      goal: `≥ ${TARGET_JAIN}`,
      actual: jainMean.toFixed(3),
      met: jainMean >= TARGET_JAIN,
      ...(jainMean >= TARGET_JAIN ? {} : { shortfall: `${(TARGET_JAIN - jainMean).toFixed(3)} short` }),
    },
    {
      label: 'small tenant p95 wait (worst tenant)',
      goal: `≤ 2 × alone + one provider latency = ${(waitBound / 1000).toFixed(1)} s`,
      actual: `${(worstWait / 1000).toFixed(1)} s`,
      met: worstWait <= waitBound,
      ...(worstWait <= waitBound ? {} : { shortfall: `${(worstWait / waitBound).toFixed(1)}× over` }),
    },
    {
      label: 'cap utilisation, one tenant alone',
      goal: `≥ ${TARGET_UTILISATION * 100}%`,
      actual: `${(mixed.util * 100).toFixed(1)}%`,
      met: mixed.util >= TARGET_UTILISATION,
      ...(mixed.util >= TARGET_UTILISATION
        ? {}
        : { shortfall: `${((TARGET_UTILISATION - mixed.util) * 100).toFixed(1)} points short` }),
    },
    {
      label: 'weights 3:1 give shares within 10% of 3:1',
      goal: `${TARGET_WEIGHT_RATIO}:1 ± ${WEIGHT_TOLERANCE * 100}%`,
      actual: `${ratio.toFixed(2)}:1`,
      met: ratioOff <= WEIGHT_TOLERANCE,
      ...(ratioOff <= WEIGHT_TOLERANCE ? {} : { shortfall: `${(ratioOff * 100).toFixed(0)}% off` }),
    },
  ];
  return {
    id: 'fairness',
    title: 'Fair share across tenants',
    at: new Date().toISOString(),
    params: {
      MAX_IN_FLIGHT: p.cap,
      'big tenant tasks': p.bigTasks,
      'small tenants': p.smallTenants,
      'tasks per small tenant': p.smallTasks,
      'weighted tenants: tasks each': p.weightTasks,
      'provider latency ms': `${p.latency.min}-${p.latency.max}`,
      'small tenants arrive after ms': p.leadMs,
      'worker concurrency': p.concurrency,
    },
    figures,
    targets,
    samples: { jain: mixed.jain, smallP95WaitMs: mixed.waits },
    notes: [
      'Waits are bounded by the cap itself: ten tenants of 200 need 2,000 admissions, i.e. 2,000 ÷ (MAX_IN_FLIGHT ÷ latency) seconds of the whole cap, before the last of them can be submitted.',
    ],
  };
}
