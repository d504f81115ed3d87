// `npm run bench [-- <id>...]`: runs the benchmarks (all, or those named: e2e, inflight, webhook,
// enqueue, redis, tail, fairness, tracing) one after another, prints a summary, writes bench/results/latest.json and
// regenerates the results section of BENCHMARKS.md. Exits 1 when a benchmark failed.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eThroughput } from './e2e-throughput.js';
import { enqueueRate } from './enqueue-rate.js';
import { fairness } from './fairness.js';
import { inflightCapacity } from './inflight-capacity.js';
import { redisCommands } from './redis-commands.js';
import { describeMachine, loadAverage } from './support/machine.js';
import {
  consoleSummary,
  mergeResults,
  resultsMarkdown,
  writeResultsFile,
  writeResultsSection,
} from './support/report.js';
import type { BenchModule, BenchResult } from './support/result.js';
import { tailLatency } from './tail-latency.js';
import { tracingCost } from './tracing-cost.js';
import { webhookAck } from './webhook-ack.js';

const BENCHMARKS: readonly BenchModule[] = [
  e2eThroughput,
  inflightCapacity,
  webhookAck,
  enqueueRate,
  redisCommands,
  tailLatency,
  fairness,
  tracingCost,
];
const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_JSON = join(here, 'results', 'latest.json');
const BENCHMARKS_MD = join(here, '..', 'BENCHMARKS.md');

// Ctrl-C: exit through process.exit so every child process is killed on the way out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.id === w));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.id).join(', ')}`,
  );
  process.exit(2);
}
const selected = wanted.length ? BENCHMARKS.filter((b) => wanted.includes(b.id)) : BENCHMARKS;
const machine = describeMachine();
console.log(
  `Benchmarks on ${machine.cpus}, ${machine.memory}, Node ${machine.node}, redis-server ${machine.redis}`,
);

const results: BenchResult[] = [];
for (const b of selected) {
  console.log(`\n${b.title} (${b.id})`);
  const before = loadAverage();
  const started = Date.now();
  let result: BenchResult;
  try {
    result = await b.run();
  } catch (err) {
    console.error(err);
    result = {
      id: b.id,
      title: b.title,
      at: new Date().toISOString(),
      params: {},
      figures: [],
      targets: [],
      samples: {},
      notes: [],
      error: err instanceof Error ? err.message : String(err),
    };
  }
  result.load = { before, after: loadAverage() };
  results.push(result);
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

console.log(`\n${consoleSummary(results)}`);
const file = mergeResults(RESULTS_JSON, machine, results);
mkdirSync(dirname(RESULTS_JSON), { recursive: true });
writeResultsFile(RESULTS_JSON, file);
writeResultsSection(
  BENCHMARKS_MD,
  resultsMarkdown(
    file,
    BENCHMARKS.map((b) => b.id),
  ),
);
console.log(`\nwrote ${RESULTS_JSON} and the results section of ${BENCHMARKS_MD}`);
process.exit(results.some((r) => r.error) ? 1 : 0);
