// A task that ends partial: kr.complete says so (kr.state partial), its kr.provider_wait holds an event
// for each result that arrived, and a single task enqueued on its own (not in a batch) is traced too.
// Relay in this process (startPipeline) with tracing started here, exporting to the OTLP receiver.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { ATTR } from '../../src/tracing/spans.js';
import { startTracing, stopTracing } from '../../src/tracing/start-tracing.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

const EXPORT_TIMEOUT_MS = 20_000;
const task = () => ({
  positivePrompt: 'two lighthouses at dusk',
  width: 1024,
  height: 1024,
  numberResults: 2,
  taskUUID: randomUUID(),
});

let p: Pipeline;
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  startTracing(
    loadTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    }),
    'all',
  );
  p = await startPipeline({
    env: { LOG_LEVEL: 'silent', FIRST_POLL_AFTER_MS: '400', MAX_POLL_INTERVAL_MS: '800' },
  });
});
afterAll(async () => {
  await p?.close();
  await stopTracing();
  await receiver?.close();
});

const spansOf = (traceparent: string) =>
  receiver.spans.filter((s) => s.traceId === traceparent.split('-')[1]);

describe('tracing a task to its end', () => {
  it('a partial task: kr.complete with kr.state partial, one arrival event per stored result', async () => {
    const t = task();
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 0, code: 'contentPolicyViolation' }]);
    const batch = await p.producer.enqueueBatch([t]);
    expect((await waitForBatch(p, batch.batchId, 30_000)).partial).toBe(1);
    const tp = (await p.svc.queue.getJob(t.taskUUID))?.data.trace;
    expect(tp).toBeDefined();
    await until(
      () => spansOf(tp!).some((s) => s.name === 'kr.complete'),
      EXPORT_TIMEOUT_MS,
      'kr.complete exported',
    );
    const spans = spansOf(tp!);
    const complete = spans.find((s) => s.name === 'kr.complete')!;
    expect(complete.attributes).toMatchObject({
      [ATTR.state]: 'partial',
      [ATTR.taskUUID]: t.taskUUID,
      [ATTR.batchId]: batch.batchId,
    });
    const wait = spans.find((s) => s.name === 'kr.provider_wait')!;
    expect(wait.events).toHaveLength(1);
    expect(spans.filter((s) => s.name === 'kr.store_output')).toHaveLength(1);
  });

  it('a task enqueued on its own carries a trace; its spans have no batch id', async () => {
    const t = task();
    const r = await p.producer.enqueue(t);
    expect(r.duplicate).toBe(false);
    const tp = (await p.svc.queue.getJob(t.taskUUID))?.data.trace;
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await until(
      () => spansOf(tp!).some((s) => s.name === 'kr.complete'),
      EXPORT_TIMEOUT_MS,
      'kr.complete exported',
    );
    const spans = spansOf(tp!);
    expect(spans.find((s) => s.name === 'kr.complete')!.attributes[ATTR.state]).toBe('completed');
    for (const s of spans) {
      expect(s.attributes[ATTR.taskUUID], s.name).toBe(t.taskUUID);
      expect(s.attributes, s.name).not.toHaveProperty(ATTR.batchId);
    }
  });
});
