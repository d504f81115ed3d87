// Benchmark 8: what tracing costs. The relay run of the e2e benchmark (the producer in this process, the
// worker and the webhook server as `serve --role` children, the simulator, S3), alternated with tracing
// off and on at 100% sampling (always_on, OTLP http/protobuf to a discarding collector on loopback, in
// every relay process), same services, same run. The figure is the CPU per task of the relay's two
// processes together (worker + webhook), paired round by round; target ≤ 10% more.
import { loadTracingConfig } from '../src/config/tracing-config.js';
import { startTracing, stopTracing } from '../src/tracing/start-tracing.js';
import { envInt } from './support/bench-config.js';
import { startOtlpSink } from './support/otlp-sink.js';
import { type PipelineCtx, type RunOutcome, relayRun } from './support/pipeline-runs.js';
import type { BenchModule, BenchResult, TargetCheck } from './support/result.js';
import { startServices } from './support/services.js';
import { startSimulatorChild } from './support/simulator-child.js';
import { median, pairedRatios } from './support/stats.js';

/** The target: tracing on adds at most 10% CPU per task. */
const MAX_EXTRA_CPU = 0.1;
const WARMUP_TASKS = 200;
const PROCS = ['worker', 'webhook', 'bench', 'simulator', 's3rver', 'redis'] as const;
/** The relay's own processes: what tracing is measured against. */
const RELAY = ['worker', 'webhook'] as const;

type Mode = 'off' | 'on';

export const tracingCost: BenchModule = {
  id: 'tracing',
  title: 'Tracing cost (on at 100% sampling vs off)',
  async run(): Promise<BenchResult> {
    const tasks = envInt('BENCH_TRACING_TASKS', 500);
    const rounds = envInt('BENCH_ROUNDS', 3);
    const concurrency = envInt('BENCH_CONCURRENCY', 64);
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild({ min: 0, max: 0 });
    const sink = await startOtlpSink();
    const cfg = loadTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    const ctx: PipelineCtx = { services, sim, tasks, concurrency };
    const out: Record<Mode, RunOutcome[]> = { off: [], on: [] };
    let exported = { requests: 0, bytes: 0 };
    // The children trace when their environment names the collector; this process traces the enqueue.
    const otelEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    };
    const runOnce = async (mode: Mode, c: PipelineCtx, tag: string) => {
      if (mode === 'on') startTracing(cfg, 'bench');
      try {
        return await relayRun(c, tag, mode === 'on' ? { childEnv: otelEnv } : {});
      } finally {
        if (mode === 'on') await stopTracing(); // exports the rest
      }
    };
    try {
      for (const mode of ['off', 'on'] as const)
        await runOnce(mode, { ...ctx, tasks: Math.min(WARMUP_TASKS, tasks) }, `warm-tr-${mode}`);
      for (let r = 0; r < rounds; r++) {
        // Alternate which goes first, so neither always runs on a warmer or busier machine.
        for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
          await services.redis.flushall();
          const before = { requests: sink.requests, bytes: sink.bytes };
          const o = await runOnce(mode, ctx, `tr-${mode}-${r}`);
          if (mode === 'on')
            exported = {
              requests: exported.requests + sink.requests - before.requests,
              bytes: exported.bytes + sink.bytes - before.bytes,
            };
          out[mode].push(o);
          const cpu = RELAY.reduce((sum, p) => sum + (o.cpuMsPerItem[p] ?? 0), 0);
          console.log(
            `  tracing round ${r + 1}/${rounds} ${mode}: ${o.perSecond.toFixed(0)}/s, ${cpu.toFixed(2)} ms CPU/task (relay)`,
          );
        }
      }
    } finally {
      await sink.close();
      await sim.stop();
      await services.stop();
    }
    return report(tasks, rounds, concurrency, out, exported);
  },
};

function report(
  tasks: number,
  rounds: number,
  concurrency: number,
  o: Record<Mode, RunOutcome[]>,
  exported: { requests: number; bytes: number },
): BenchResult {
  const cpu = (m: Mode, p: string) => o[m].map((x) => x.cpuMsPerItem[p] ?? 0);
  const relayCpu = (m: Mode) => o[m].map((x) => RELAY.reduce((sum, p) => sum + (x.cpuMsPerItem[p] ?? 0), 0));
  const total = (m: Mode) => o[m].map((x) => Object.values(x.cpuMsPerItem).reduce((a, b) => a + b, 0));
  const extra = median(pairedRatios(relayCpu('on'), relayCpu('off'))) - 1;
  const extraTotal = median(pairedRatios(total('on'), total('off'))) - 1;
  const met = extra <= MAX_EXTRA_CPU;
  const target: TargetCheck = {
    label: 'extra CPU per task with tracing on (relay: worker + webhook)',
    goal: '≤ 10%',
    actual: `${(extra * 100).toFixed(1)}%`,
    met,
    ...(met ? {} : { shortfall: `${((extra - MAX_EXTRA_CPU) * 100).toFixed(1)} points over` }),
  };
  return {
    id: 'tracing',
    title: 'Tracing cost (on at 100% sampling vs off)',
    at: new Date().toISOString(),
    params: { 'tasks per run': tasks, rounds, concurrency, sampler: 'always_on', protocol: 'http/protobuf' },
    figures: [
      ...PROCS.flatMap((p) =>
        (['off', 'on'] as const).map((m) => ({
          label: `CPU per task, tracing ${m}: ${p === 'bench' ? 'benchmark process (producer, collector)' : p}`,
          value: median(cpu(m, p)),
          unit: 'ms',
        })),
      ),
      ...(['off', 'on'] as const).map((m) => ({
        label: `CPU per task, tracing ${m}: relay (worker + webhook)`,
        value: median(relayCpu(m)),
        unit: 'ms',
      })),
      { label: 'extra CPU per task, relay (median of paired ratios)', value: extra, unit: 'ratio' },
      {
        label: 'extra CPU per task, all processes (median of paired ratios)',
        value: extraTotal,
        unit: 'ratio',
      },
      { label: 'throughput, tracing off', value: median(o.off.map((x) => x.perSecond)), unit: 'tasks/s' },
      { label: 'throughput, tracing on', value: median(o.on.map((x) => x.perSecond)), unit: 'tasks/s' },
      { label: 'exported per task', value: exported.bytes / 1024 / (tasks * rounds), unit: 'KiB' },
    ],
    targets: [target],
    samples: { cpuOff: relayCpu('off'), cpuOn: relayCpu('on') },
    notes: [
      'The collector discards what it receives without decoding it; it runs in the benchmark process, not the relay.',
      'Spans still buffered when a run ends are exported after its clock stops (at most one batch of 512).',
    ],
  };
}
