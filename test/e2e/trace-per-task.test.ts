// One trace per task, end to end: the CLI enqueues a batch, a worker and a webhook server run as
// separate processes against real Redis, the S3 server and the simulator, and all of them export to an
// OTLP/HTTP (JSON) receiver on loopback. Every task's trace must hold the spans of the processes that
// did its work (resource kr.role), children of its kr.enqueue, in causal order, with the task's
// attributes. With tracing off nothing is stored with the task.
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { ATTR } from '../../src/tracing/spans.js';
import { uniqueId } from '../helpers/env.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { processRelayEnv } from '../helpers/process-rig.js';
import {
  describeOutputs,
  type ManagedProcess,
  runCli,
  startRelayRole,
  startSimulatorProcess,
  stopAll,
} from '../helpers/processes.js';
import { openObserver, type RelayObserver, until, waitForBatchEnd } from '../helpers/relay-observer.js';

const TASKS = 6;
/** Results per task: every task has slots 0 and 1, so per-slot spans are told apart. */
const RESULTS = 2;
const STEP_TIMEOUT_MS = 90_000;

let procs: ManagedProcess[] = [];
let obs: RelayObserver | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await stopAll(...procs);
  await obs?.close();
  await receiver?.close();
  procs = [];
  obs = undefined;
  receiver = undefined;
});

async function startRelay(tag: string, extra: Record<string, string>) {
  const { env, simPort } = await processRelayEnv(tag, extra);
  // A third of the webhooks are lost: polling recovers those results, so both arrival paths are traced.
  const sim = await startSimulatorProcess({
    port: simPort,
    latency: { minMs: 200, maxMs: 800 },
    faults: { dropWebhook: 0.34 },
  });
  procs.push(sim);
  const [webhook, worker] = await Promise.all([
    startRelayRole({ role: 'webhook', env }),
    startRelayRole({ role: 'worker', env }),
  ]);
  procs.push(webhook, worker);
  onTestFailed(() => console.error(describeOutputs(procs)));
  obs = openObserver(env);
  return { env, obs };
}

const jsonl = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ positivePrompt: `trace ${i}`, width: 1024, height: 1024, numberResults: RESULTS }),
  ).join('\n');

/** Span start times have millisecond precision (the SDK takes them from Date.now()): allow 1 ms. */
const MS = 1_000_000n;
function notBefore(later: bigint, earlier: bigint): boolean {
  return later + MS >= earlier;
}

function byName(spans: ReceivedSpan[], name: string) {
  return spans.filter((s) => s.name === name);
}

describe('one trace per task', () => {
  it('holds every process’s spans of the task, children of kr.enqueue, in causal order, with its attributes', async () => {
    receiver = await startOtlpReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_SERVICE_NAME: 'relay-under-test',
    };
    const id = uniqueId('tr');
    const { env, obs: o } = await startRelay(id, { ...otel, FIRST_POLL_AFTER_MS: '1500' });
    const batchId = `batch-${id}`;
    const cli = await runCli(['enqueue', '-', '--batch', batchId], env, { stdin: jsonl(TASKS) });
    expect(cli.code, cli.stderr).toBe(0);
    const final = await waitForBatchEnd(o, batchId, STEP_TIMEOUT_MS);
    expect(final).toMatchObject({ completed: TASKS, failed: 0 });

    const jobs = await o.queue.getJobs(['completed']);
    expect(jobs).toHaveLength(TASKS);
    const tasks = jobs.map((j) => ({ uuid: j.data.task.taskUUID, trace: j.data.trace }));
    for (const t of tasks) expect(t.trace).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const rx = receiver;
    const traceOf = (tp: string) => tp.split('-')[1]!;
    // Each process exports on its own schedule: wait for every task's kr.complete (worker) and for a
    // kr.webhook (webhook server) per result that arrived by webhook.
    const exported = async (t: (typeof tasks)[number]) => {
      const spans = rx.spans.filter((s) => s.traceId === traceOf(t.trace!));
      const hooks = (await o.tasks.arrivals(t.uuid)).filter((a) => a.via === 'webhook');
      return (
        spans.some((s) => s.name === 'kr.complete') &&
        hooks.every((a) => spans.some((s) => s.name === 'kr.webhook' && s.attributes[ATTR.slot] === a.slot))
      );
    };
    await until(
      async () => (await Promise.all(tasks.map(exported))).every(Boolean),
      STEP_TIMEOUT_MS,
      'every task’s spans exported',
    );
    let viaPoll = 0;
    let viaWebhook = 0;
    for (const t of tasks) {
      const traceId = traceOf(t.trace!);
      const spans = rx.spans.filter((s) => s.traceId === traceId);
      // No span of this task went to another trace.
      const strays = rx.spans.filter((s) => s.attributes[ATTR.taskUUID] === t.uuid && s.traceId !== traceId);
      expect(strays.map((s) => s.name)).toEqual([]);

      const [root, ...moreRoots] = byName(spans, 'kr.enqueue');
      expect(moreRoots).toHaveLength(0);
      expect(root!.parentSpanId).toBe('');
      expect(root!.resource['kr.role']).toBe('cli');
      expect(root!.resource['service.name']).toBe('relay-under-test');
      expect(root!.attributes).toMatchObject({ [ATTR.taskUUID]: t.uuid, [ATTR.batchId]: batchId });
      // Every other span continues the stored context: a child of kr.enqueue (or nested below it).
      const ids = new Set(spans.map((s) => s.spanId));
      for (const s of spans) if (s !== root) expect(ids.has(s.parentSpanId), s.name).toBe(true);

      const task = { [ATTR.taskUUID]: t.uuid, [ATTR.batchId]: batchId };
      const worker = (name: string) => {
        const list = byName(spans, name);
        for (const s of list) {
          expect(s.resource['kr.role'], name).toBe('worker');
          expect(s.attributes, name).toMatchObject(task);
          expect(s.attributes[ATTR.attempt], name).toBe(1);
        }
        return list;
      };
      const [submit] = worker('kr.submit');
      expect(submit!.attributes[ATTR.providerStatus]).toBe(200);
      expect(submit!.parentSpanId).toBe(root!.spanId);

      const arrivals = await o.tasks.arrivals(t.uuid);
      expect(arrivals.map((a) => a.slot)).toEqual([0, 1]);
      const [wait, ...moreWaits] = worker('kr.provider_wait');
      expect(moreWaits).toHaveLength(0);
      expect(wait!.events.map((e) => e.attributes[ATTR.slot]).sort()).toEqual([0, 1]);
      expect(wait!.events.map((e) => e.name).sort()).toEqual(
        arrivals.map((a) => `kr.result.${a.via}`).sort(),
      );
      expect(notBefore(wait!.startNs, submit!.startNs)).toBe(true);
      for (const e of wait!.events) expect(e.timeNs <= wait!.endNs, e.name).toBe(true);

      // Each webhook that delivered a result: a kr.webhook span from the webhook process.
      const webhooks = byName(spans, 'kr.webhook');
      for (const w of webhooks) {
        expect(w.resource['kr.role']).toBe('webhook');
        expect(w.parentSpanId).toBe(root!.spanId);
        expect(w.attributes).toMatchObject({ ...task, [ATTR.attempt]: 1 });
        expect(notBefore(w.startNs, submit!.startNs)).toBe(true);
      }
      for (const a of arrivals.filter((x) => x.via === 'webhook')) {
        const w = webhooks.find((x) => x.attributes[ATTR.slot] === a.slot);
        expect(w, `kr.webhook for slot ${a.slot}`).toBeDefined();
        expect(w!.attributes[ATTR.imageUUID]).toEqual(expect.any(String));
        expect(w!.attributes[ATTR.outcome]).toBe('new');
      }
      // A result recovered by polling: a kr.poll span that found it.
      const polls = worker('kr.poll');
      if (arrivals.some((a) => a.via === 'poll'))
        expect(polls.some((p) => Number(p.attributes[ATTR.recovered]) > 0)).toBe(true);
      viaPoll += arrivals.filter((a) => a.via === 'poll').length;
      viaWebhook += arrivals.filter((a) => a.via === 'webhook').length;

      // Per slot: the fetch, then the store to S3, after the result arrived.
      for (const slot of [0, 1]) {
        const [fetch, ...f2] = worker('kr.fetch_output').filter((s) => s.attributes[ATTR.slot] === slot);
        const [store, ...s2] = worker('kr.store_output').filter((s) => s.attributes[ATTR.slot] === slot);
        expect(f2.length + s2.length).toBe(0);
        expect(Number(fetch!.attributes[ATTR.bytes])).toBeGreaterThan(0);
        expect(notBefore(store!.startNs, fetch!.endNs)).toBe(true);
        expect(store!.attributes[ATTR.s3Key]).toMatch(new RegExp(`${t.uuid}`));
        expect(notBefore(fetch!.startNs, submit!.endNs)).toBe(true);
      }
      const [complete, ...moreCompletes] = worker('kr.complete');
      expect(moreCompletes).toHaveLength(0);
      expect(complete!.attributes[ATTR.state]).toBe('completed');
      for (const s of spans)
        if (s !== complete) expect(notBefore(complete!.startNs, s.startNs), s.name).toBe(true);
      expect(notBefore(complete!.startNs, wait!.endNs)).toBe(true);
      expect(notBefore(submit!.startNs, root!.endNs)).toBe(true);
    }
    // The run exercised both arrival paths (a third of the webhooks dropped, 12 results).
    expect(viaWebhook).toBeGreaterThan(0);
    expect(viaPoll).toBeGreaterThan(0);
  });

  it('stores nothing with the task and exports nothing when no OTEL variable is set', async () => {
    receiver = await startOtlpReceiver();
    const id = uniqueId('tn');
    const { env, obs: o } = await startRelay(id, {});
    const batchId = `batch-${id}`;
    const cli = await runCli(['enqueue', '-', '--batch', batchId], env, { stdin: jsonl(2) });
    expect(cli.code, cli.stderr).toBe(0);
    await waitForBatchEnd(o, batchId, STEP_TIMEOUT_MS);
    const jobs = await o.queue.getJobs(['completed']);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) expect(Object.keys(j.data)).not.toContain('trace');
    expect(receiver.spans).toHaveLength(0);
  });
});
