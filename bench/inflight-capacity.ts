// Benchmark 2: how many tasks one worker process holds in flight (accepted by the provider, not yet
// ended), the throughput it achieves against Little's law (in-flight ÷ latency) with a provider latency
// of seconds, and its peak memory. Four phases, each with its own worker and webhook server processes:
// capacity (a latency long enough that the whole batch is in flight at once), the same with Node's
// default heap sizing, Little's law at 5 s with the worker flat out, and the same with tasks arriving
// at a steady rate well below what it can do. The worker runs with NODE_OPTIONS as docker-compose.yml
// ships it unless BENCH_INFLIGHT_WORKER_NODE_OPTIONS says otherwise.
import { envInt } from './support/bench-config.js';
import {
  atLeastPercent,
  type BenchModule,
  type BenchResult,
  type Figure,
  type TargetCheck,
} from './support/result.js';
import { startServices } from './support/services.js';
import { mean, percentile } from './support/stats.js';
import { peakConcurrency } from './support/task-timeline.js';
import { type PhaseResult, runWorkerPhase, SMALL_IMAGE_QUALITY } from './support/worker-phase.js';

const TARGET_INFLIGHT = 20_000;
const TARGET_EFFICIENCY = 0.9;
const TARGET_PEAK_RSS_MB = 300;
/** Capacity phase: results come back only after this, so every task can be submitted first. */
const HOLD_LATENCY_MS = 600_000;
/** The worker's Node options as docker-compose.yml ships them (its old generation capped). */
const SHIPPED_WORKER_NODE_OPTIONS = '--max-old-space-size=128';

export const inflightCapacity: BenchModule = {
  id: 'inflight',
  title: 'In-flight capacity',
  async run(): Promise<BenchResult> {
    const capacityTasks = envInt('BENCH_INFLIGHT_TASKS', TARGET_INFLIGHT);
    const littleTasks = envInt('BENCH_LITTLE_TASKS', 10_000);
    const pacedTasks = envInt('BENCH_LITTLE_PACED_TASKS', 3000);
    const arrivalRate = envInt('BENCH_LITTLE_ARRIVAL_RATE', 50);
    const latencyMs = envInt('BENCH_INFLIGHT_LATENCY_MS', 5000);
    const concurrency = envInt('BENCH_INFLIGHT_CONCURRENCY', 64);
    const workerNodeOptions = process.env.BENCH_INFLIGHT_WORKER_NODE_OPTIONS ?? SHIPPED_WORKER_NODE_OPTIONS;
    const common = { concurrency, workerNodeOptions };
    const services = await startServices({ s3: true });
    try {
      const hold = await runWorkerPhase(services, {
        ...common,
        tag: 'capacity',
        tasks: capacityTasks,
        latencyMs: HOLD_LATENCY_MS,
        until: 'all-in-flight',
      });
      // The same with Node's default heap sizing, to show what the shipped cap is worth.
      const holdDefault = await runWorkerPhase(services, {
        ...common,
        workerNodeOptions: '',
        tag: 'capacity-default-heap',
        tasks: capacityTasks,
        latencyMs: HOLD_LATENCY_MS,
        until: 'all-in-flight',
      });
      const little = await runWorkerPhase(services, {
        ...common,
        tag: 'little',
        tasks: littleTasks,
        latencyMs,
        until: 'all-ended',
      });
      // Tasks arriving at a fraction of the worker's capacity: what the relay adds when it is not the bottleneck.
      const paced = await runWorkerPhase(services, {
        ...common,
        tag: 'paced',
        tasks: pacedTasks,
        latencyMs,
        until: 'all-ended',
        arrivalRate: arrivalRate,
      });
      return report({
        capacityTasks,
        littleTasks,
        pacedTasks,
        arrivalRate,
        latencyMs,
        concurrency,
        workerNodeOptions,
        hold,
        holdDefault,
        little,
        paced,
      });
    } finally {
      await services.stop();
    }
  },
};

function report(r: {
  capacityTasks: number;
  littleTasks: number;
  pacedTasks: number;
  arrivalRate: number;
  latencyMs: number;
  concurrency: number;
  workerNodeOptions: string;
  hold: PhaseResult;
  holdDefault: PhaseResult;
  little: PhaseResult;
  paced: PhaseResult;
}): BenchResult {
  const held = Math.max(...r.hold.samples.map((s) => s.inflight));
  const submitted = r.hold.timelines.filter((t) => Number.isFinite(t.submittedAt)).map((t) => t.submittedAt);
  const submitRate = submitted.length / ((Math.max(...submitted) - Math.min(...submitted)) / 1000);
  const little = littleFigures(r.little, r.latencyMs, 'Little');
  const paced = littleFigures(r.paced, r.latencyMs, `Little, ${r.arrivalRate} tasks/s arriving`);
  const peakRss = Math.max(r.hold.peakRssMb, r.little.peakRssMb, r.paced.peakRssMb);
  const targets: TargetCheck[] = [
    {
      label: 'tasks in flight at once, one worker',
      goal: `≥ ${TARGET_INFLIGHT.toLocaleString('en')}`,
      actual: held.toLocaleString('en'),
      met: held >= TARGET_INFLIGHT,
      ...(held >= TARGET_INFLIGHT
        ? {}
        : { shortfall: `${(TARGET_INFLIGHT - held).toLocaleString('en')} short` }),
    },
    atLeastPercent(
      `Little's-law efficiency at ${r.latencyMs / 1000} s`,
      little.efficiency,
      TARGET_EFFICIENCY,
      '≥ 90%',
    ),
    {
      label: `worker peak RSS (any phase, NODE_OPTIONS ${r.workerNodeOptions || 'unset'})`,
      goal: `< ${TARGET_PEAK_RSS_MB} MB`,
      actual: `${peakRss.toFixed(0)} MB`,
      met: peakRss < TARGET_PEAK_RSS_MB,
      ...(peakRss < TARGET_PEAK_RSS_MB
        ? {}
        : { shortfall: `${(peakRss - TARGET_PEAK_RSS_MB).toFixed(0)} MB over` }),
    },
  ];
  const perTask = (p: PhaseResult, tasks: number): Figure[] =>
    Object.entries(p.cpuMs).map(([k, ms]) => ({
      label: `Little: CPU per task, ${k}`,
      value: ms / tasks,
      unit: 'ms',
    }));
  return {
    id: 'inflight',
    title: 'In-flight capacity',
    at: new Date().toISOString(),
    params: {
      'capacity phase tasks': r.capacityTasks,
      'Little phase tasks': r.littleTasks,
      'paced phase tasks': r.pacedTasks,
      'paced phase arrivals': `${r.arrivalRate} tasks/s`,
      'Little phase latency ms': r.latencyMs,
      'worker concurrency': r.concurrency,
      image: `1024×1024 JPG q${SMALL_IMAGE_QUALITY}`,
      'worker NODE_OPTIONS': r.workerNodeOptions || 'unset',
    },
    figures: [
      { label: 'capacity: tasks in flight at once (inflight set)', value: held, unit: 'tasks' },
      {
        label: 'capacity: jobs parked at once (delayed set)',
        value: Math.max(...r.hold.samples.map((s) => s.parked)),
        unit: 'jobs',
      },
      { label: 'capacity: submit rate', value: submitRate, unit: 'tasks/s' },
      { label: 'capacity: worker peak RSS (VmHWM)', value: r.hold.peakRssMb, unit: 'MB' },
      {
        label: "capacity: worker peak RSS with Node's default heap sizing",
        value: r.holdDefault.peakRssMb,
        unit: 'MB',
      },
      {
        label: 'capacity: worker RSS when it started',
        value: r.hold.samples[0]?.workerRssMb ?? Number.NaN,
        unit: 'MB',
      },
      {
        label: 'capacity: Redis memory added per task in flight',
        value: (r.hold.redisMb * 1024) / Math.max(1, held),
        unit: 'KB',
      },
      ...little.figures,
      { label: 'Little: worker peak RSS (VmHWM)', value: r.little.peakRssMb, unit: 'MB' },
      ...perTask(r.little, r.littleTasks),
      ...paced.figures.filter((f) => PACED_FIGURES.some((c) => f.label.endsWith(c))),
    ],
    targets,
    samples: {
      capacityInflight: r.hold.samples.map((s) => s.inflight),
      littleInflight: r.little.samples.map((s) => s.inflight),
      littleWorkerRssMb: r.little.samples.map((s) => Math.round(s.workerRssMb)),
    },
    notes: [],
  };
}

/**
 * Little's law over the phase, exact from the task records: X = tasks ÷ (first submit → last end), L =
 * total time in flight ÷ the same span, so L = X·W̄ and X ÷ (L ÷ latency) = latency ÷ W̄.
 */
/** The figures of the paced phase worth a row (the rest repeat the flat-out phase's story). */
const PACED_FIGURES = [
  'throughput X (first submit to last end)',
  'mean in flight L',
  'efficiency X ÷ (L ÷ latency)',
  'mean time in flight',
];

/**
 * Little's law over a phase, exact from the task records: X = tasks ÷ (first submit → last end), L = total
 * time in flight ÷ the same span, so L = X·W̄ and X ÷ (L ÷ latency) = latency ÷ W̄.
 */
function littleFigures(
  p: PhaseResult,
  latencyMs: number,
  phase: string,
): { efficiency: number; figures: Figure[] } {
  const t = p.timelines;
  const firstSubmit = Math.min(...t.map((x) => x.submittedAt));
  const lastSubmit = Math.max(...t.map((x) => x.submittedAt));
  const lastEnd = Math.max(...t.map((x) => x.finishedAt));
  const spanSec = (lastEnd - firstSubmit) / 1000;
  const inFlightMs = t.map((x) => x.finishedAt - x.submittedAt);
  const throughput = t.length / spanSec;
  const meanInflight = inFlightMs.reduce((a, b) => a + b, 0) / 1000 / spanSec;
  const bound = meanInflight / (latencyMs / 1000);
  const efficiency = throughput / bound;
  const providerLateMs = t.map((x) => x.receivedAt - x.submittedAt - latencyMs);
  const relayAfterMs = t.map((x) => x.finishedAt - x.receivedAt);
  const f = (label: string, value: number, unit: string): Figure => ({
    label: `${phase}: ${label}`,
    value,
    unit,
  });
  return {
    efficiency,
    figures: [
      f('peak tasks in flight (task records)', peakConcurrency(t), 'tasks'),
      f('submit rate (first to last submit)', t.length / ((lastSubmit - firstSubmit) / 1000), 'tasks/s'),
      f('throughput X (first submit to last end)', throughput, 'tasks/s'),
      f('mean in flight L', meanInflight, 'tasks'),
      f('bound L ÷ latency', bound, 'tasks/s'),
      f('efficiency X ÷ (L ÷ latency)', efficiency, 'ratio'),
      f('mean time in flight', mean(inFlightMs) / 1000, 's'),
      f('result webhook later than the latency, p50', percentile(providerLateMs, 50), 'ms'),
      f('result webhook later than the latency, p99', percentile(providerLateMs, 99), 'ms'),
      f('webhook received to task ended, p50', percentile(relayAfterMs, 50) / 1000, 's'),
      f('webhook received to task ended, p99', percentile(relayAfterMs, 99) / 1000, 's'),
    ],
  };
}
