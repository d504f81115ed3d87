// Benchmark 1: end-to-end tasks/s through the real relay (producer → worker → simulator → webhook →
// S3) against the queue's own ceiling (a bare BullMQ worker making one HTTP POST per job) and the
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

/** The target: the relay reaches at least half of what the object store can take. */
const TARGET_OF_STORAGE = 0.5;
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
    const rounds = envInt('BENCH_ROUNDS', 3);
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
  const cpuTotal = (who: Who) =>
    median(o[who].map((x) => Object.values(x.cpuMsPerItem).reduce((a, b) => a + b, 0)));
  const cpuFigures = (who: Who, what: string, procs: string[]): Figure[] => [
    ...procs.map((p) => ({
      label: `CPU per ${what}: ${p === 'bench' ? 'this process' : p}`,
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
      { label: 'relay ÷ queue ceiling (median of paired ratios)', value: ofQueue, unit: 'ratio' },
      ...cpuFigures('relay', 'task, relay run', ['bench', 'simulator', 's3rver', 'redis']),
      ...cpuFigures('storage', 'PUT, storage ceiling', ['bench', 's3rver']),
      ...cpuFigures('queue', 'job, queue ceiling', ['bench', 'simulator', 'redis']),
      {
        label: 'CPU-time ratio: storage CPU per PUT ÷ relay CPU per task',
        value: cpuTotal('storage') / cpuTotal('relay'),
        unit: 'ratio',
      },
      {
        // The provider runs elsewhere in production; here its simulator takes a share of the same cores.
        label: 'CPU-time ratio, simulator excluded',
        value: cpuTotal('storage') / (cpuTotal('relay') - cpu('relay', 'simulator')),
        unit: 'ratio',
      },
    ],
    targets: [atLeastPercent('end to end vs storage ceiling', ofStorage, TARGET_OF_STORAGE, '≥ 50%')],
    samples: { relay: rate('relay'), queue: rate('queue'), storage: rate('storage') },
    notes: [],
  };
}
