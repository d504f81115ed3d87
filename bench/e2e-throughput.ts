// Benchmark 1: end-to-end tasks/s through the relay as deployed (producer here → worker process →
// simulator → webhook process → S3, the roles started as `serve --role`) against the queue's own ceiling (a bare BullMQ worker making one HTTP POST per job) and the
// storage ceiling (a raw S3 PUT loop of the same images), alternated and compared pair by pair.
import { DEFAULT_OUTPUT_QUALITY } from '../src/simulator/task-runner.js';
import { envInt } from './support/bench-config.js';
import {
  type PipelineCtx,
  type PipelineRun,
  queueCeilingRun,
  type RunOutcome,
  relayRun,
  storageCeilingRun,
} from './support/pipeline-runs.js';
import { atLeastPercent, type BenchModule, type BenchResult, type Figure } from './support/result.js';
import { startServices } from './support/services.js';
import { startSimulatorChild } from './support/simulator-child.js';
import { median, pairedRatios } from './support/stats.js';
import { IMAGE_SIDE } from './support/task-inputs.js';

/** Issue #13's targets: 60% of what the object store can take, and the worker's CPU per task. */
const TARGET_OF_STORAGE = 0.6;
const TARGET_WORKER_CPU_MS = 1.5;
/** Tasks per run of the untimed warm-up round (JIT, connection pools, s3rver's first bucket). */
const WARMUP_TASKS = 200;

type Who = 'queue' | 'storage' | 'relay';
const RUNS: [Who, PipelineRun][] = [
  ['queue', queueCeilingRun],
  ['storage', storageCeilingRun],
  ['relay', relayRun],
];

export const e2eThroughput: BenchModule = {
  id: 'e2e',
  title: 'End-to-end throughput',
  async run(): Promise<BenchResult> {
    const tasks = envInt('BENCH_TASKS', 1000);
    const concurrency = envInt('BENCH_CONCURRENCY', 64);
    // Five rounds by default: the medians of paired ratios stay within a few points run to run.
    const rounds = envInt('BENCH_E2E_ROUNDS', envInt('BENCH_ROUNDS', 5));
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild({ min: 0, max: 0 });
    const ctx: PipelineCtx = { services, sim, tasks, concurrency };
    const outcomes: Record<Who, RunOutcome[]> = { queue: [], storage: [], relay: [] };
    try {
      for (const [who, run] of RUNS)
        await run({ ...ctx, tasks: Math.min(WARMUP_TASKS, tasks) }, `warm-${who}`);
      for (let r = 0; r < rounds; r++) {
        // Rotate the order each round so no run always follows the same neighbour.
        for (let k = 0; k < RUNS.length; k++) {
          const [who, run] = RUNS[(k + r) % RUNS.length]!;
          await services.redis.flushall();
          const out = await run(ctx, `${who}-${r}`);
          outcomes[who].push(out);
          console.log(`  e2e round ${r + 1}/${rounds} ${who}: ${out.perSecond.toFixed(0)}/s`);
        }
      }
    } finally {
      await sim.stop();
      await services.stop();
    }
    return report(ctx.tasks, rounds, concurrency, outcomes);
  },
};

function report(
  tasks: number,
  rounds: number,
  concurrency: number,
  o: Record<Who, RunOutcome[]>,
): BenchResult {
  const rate = (who: Who) => o[who].map((x) => x.perSecond);
  const ofStorage = median(pairedRatios(rate('relay'), rate('storage')));
  const ofQueue = median(pairedRatios(rate('relay'), rate('queue')));
  const cpu = (who: Who, proc: string) => median(o[who].map((x) => x.cpuMsPerItem[proc] ?? 0));
  const totals = (who: Who, skip: string[] = []) =>
    o[who].map((x) =>
      Object.entries(x.cpuMsPerItem)
        .filter(([k]) => !skip.includes(k))
        .reduce((a, [, v]) => a + v, 0),
    );
  const cpuTotal = (who: Who) => median(totals(who));
  // CPU-time ratios like the wall-clock ones: ceiling CPU per item ÷ relay CPU per task, paired by round.
  const cpuOfStorage = median(pairedRatios(totals('storage'), totals('relay')));
  const cpuOfQueue = median(pairedRatios(totals('queue'), totals('relay')));
  const cpuOfStorageNoSim = median(pairedRatios(totals('storage'), totals('relay', ['simulator'])));
  const cpuFigures = (who: Who, what: string, procs: string[]): Figure[] => [
    ...procs.map((p) => ({
      label: `CPU per ${what}: ${p === 'bench' ? 'the benchmark process' : p}`,
      value: cpu(who, p),
      unit: 'ms',
    })),
    { label: `CPU per ${what}: all processes`, value: cpuTotal(who), unit: 'ms' },
  ];
  return {
    id: 'e2e',
    title: 'End-to-end throughput',
    at: new Date().toISOString(),
    params: {
      'tasks per run': tasks,
      rounds,
      concurrency,
      image: `${IMAGE_SIDE}×${IMAGE_SIDE} JPG q${DEFAULT_OUTPUT_QUALITY}`,
    },
    figures: [
      { label: 'relay end to end', value: median(rate('relay')), unit: 'tasks/s' },
      {
        label: 'queue ceiling: bare BullMQ worker, one HTTP POST per job',
        value: median(rate('queue')),
        unit: 'jobs/s',
      },
      {
        label: 'storage ceiling: raw S3 PUT loop, same images',
        value: median(rate('storage')),
        unit: 'PUT/s',
      },
      { label: 'relay ÷ storage ceiling (median of paired ratios)', value: ofStorage, unit: 'ratio' },
      {
        label: 'CPU-time ratio beside it: storage CPU per PUT ÷ relay CPU per task',
        value: cpuOfStorage,
        unit: 'ratio',
      },
      {
        // The provider runs elsewhere in production; here its simulator takes a share of the same cores.
        label: 'CPU-time ratio beside it, simulator excluded',
        value: cpuOfStorageNoSim,
        unit: 'ratio',
      },
      { label: 'relay ÷ queue ceiling (median of paired ratios)', value: ofQueue, unit: 'ratio' },
      {
        label: 'CPU-time ratio beside it: queue ceiling CPU per job ÷ relay CPU per task',
        value: cpuOfQueue,
        unit: 'ratio',
      },
      ...cpuFigures('relay', 'task, relay run', [
        'worker',
        'webhook',
        'bench',
        'simulator',
        's3rver',
        'redis',
      ]),
      ...cpuFigures('storage', 'PUT, storage ceiling', ['bench', 's3rver']),
      ...cpuFigures('queue', 'job, queue ceiling', ['bench', 'simulator', 'redis']),
    ],
    targets: [
      atLeastPercent('end to end vs storage ceiling', ofStorage, TARGET_OF_STORAGE, '≥ 60%'),
      {
        label: 'worker CPU per task',
        goal: `≤ ${TARGET_WORKER_CPU_MS} ms`,
        actual: `${cpu('relay', 'worker').toFixed(2)} ms`,
        met: cpu('relay', 'worker') <= TARGET_WORKER_CPU_MS,
        ...(cpu('relay', 'worker') <= TARGET_WORKER_CPU_MS
          ? {}
          : { shortfall: `${(cpu('relay', 'worker') / TARGET_WORKER_CPU_MS).toFixed(1)}× over` }),
      },
    ],
    samples: {
      relay: rate('relay'),
      queue: rate('queue'),
      storage: rate('storage'),
      relayWorkerCpuMs: o.relay.map((x) => x.cpuMsPerItem.worker ?? 0),
      relayWebhookCpuMs: o.relay.map((x) => x.cpuMsPerItem.webhook ?? 0),
      relayCpuMs: totals('relay'),
      storageCpuMs: totals('storage'),
      queueCpuMs: totals('queue'),
    },
    notes: [
      'The relay runs as deployed: `serve --role webhook` and `serve --role worker` in their own processes; ' +
        'the benchmark process only enqueues (before the clock starts) and polls the batch record.',
      'Wall-clock ratios are medians of per-round pairs; each CPU-time ratio beside them is the same ' +
        'pairing of CPU ms per item summed over every process of the run (from /proc).',
    ],
  };
}
