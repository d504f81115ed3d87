// The span helpers against a real SDK exporting to the OTLP/HTTP receiver on loopback: a task's spans
// continue its stored traceparent, errors carry their code, log lines written inside a span name it,
// and the webhook URL carries the trace outside the token. The first test runs before tracing starts.
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { verifyWebhookToken, webhookUrlFor } from '../../src/tokens/webhook-token.js';
import {
  ATTR,
  activeTaskTrace,
  activeTraceFields,
  inTaskTrace,
  startTaskTrace,
  taskAttributes,
  taskSpan,
} from '../../src/tracing/spans.js';
import { startTracing, stopTracing } from '../../src/tracing/start-tracing.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { until } from '../helpers/relay-observer.js';

const EXPORT_TIMEOUT_MS = 10_000;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await stopTracing();
  await receiver?.close();
});

describe('tracing off', () => {
  it('stores no traceparent, installs no context manager, and runs task code without spans', async () => {
    expect(startTaskTrace(taskAttributes('t-1', 'b-1'))).toBeUndefined();
    // No context manager: a context set with `with` is not seen inside (the no-op manager ignores it).
    const seen = context.with(ROOT_CONTEXT.setValue(Symbol.for('x'), 1), () => context.active());
    expect(seen).toBe(ROOT_CONTEXT);
    const out = await inTaskTrace(undefined, {}, () =>
      taskSpan('kr.poll', {}, async (span) => ({ recording: span.isRecording(), task: activeTaskTrace() })),
    );
    expect(out).toEqual({ recording: false, task: undefined });
    expect(activeTraceFields()).toEqual({});
  });
});

describe('tracing on', () => {
  it('continues the stored trace, records error codes, and names the span in log lines', async () => {
    receiver = await startOtlpReceiver();
    const cfg = loadTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'spans-test',
    });
    const tracing = startTracing(cfg, 'worker');
    expect(tracing.enabled).toBe(true);
    const tp = startTaskTrace(taskAttributes('t-2', 'b-2'));
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = tp!.split('-')[1];

    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', 'test', {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    });
    const shared = taskAttributes('t-2', 'b-2', 3);
    await inTaskTrace(tp, shared, async () => {
      expect(activeTaskTrace()).toEqual({ traceparent: tp, batchId: 'b-2', attempt: 3 });
      await taskSpan('kr.poll', { [ATTR.slot]: 1 }, async () => log.info('inside the poll'));
      await expect(
        taskSpan('kr.store_output', {}, async () => {
          throw new RelayError('S3_UNAVAILABLE', 'bucket away');
        }),
      ).rejects.toThrow('bucket away');
    });
    log.info('outside any span');
    await tracing.flush();
    const rx = receiver;
    await until(() => rx.spans.length >= 3, EXPORT_TIMEOUT_MS, 'three spans exported');

    const root = rx.spans.find((s) => s.name === 'kr.enqueue')!;
    const poll = rx.spans.find((s) => s.name === 'kr.poll')!;
    const store = rx.spans.find((s) => s.name === 'kr.store_output')!;
    expect(root.traceId).toBe(traceId);
    expect(root.resource).toMatchObject({ 'kr.role': 'worker', 'service.name': 'spans-test' });
    for (const s of [poll, store]) {
      expect(s.traceId).toBe(traceId);
      expect(s.parentSpanId).toBe(root.spanId);
      expect(s.attributes).toMatchObject({
        [ATTR.taskUUID]: 't-2',
        [ATTR.batchId]: 'b-2',
        [ATTR.attempt]: 3,
      });
    }
    expect(poll.attributes[ATTR.slot]).toBe(1);
    expect(store.status.code).toBe(2); // ERROR
    expect(store.attributes[ATTR.errorCode]).toBe('S3_UNAVAILABLE');
    expect(store.events.map((e) => e.name)).toContain('exception');

    expect(lines[0]).toMatchObject({ msg: 'inside the poll', trace_id: traceId, span_id: poll.spanId });
    expect(lines[1]!.msg).toBe('outside any span');
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('puts the trace in the webhook URL outside the token, which still verifies', () => {
    const tp = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const url = new URL(
      webhookUrlFor('https://relay.example/', 'secret-1', 'task-9', 2_000_000_000, {
        traceparent: tp,
        batchId: 'batch 7',
        attempt: 2,
      }),
    );
    expect(url.searchParams.get('tp')).toBe(tp);
    expect(url.searchParams.get('tb')).toBe('batch 7');
    expect(url.searchParams.get('ta')).toBe('2');
    const plain = new URL(webhookUrlFor('https://relay.example/', 'secret-1', 'task-9', 2_000_000_000));
    expect(plain.searchParams.has('tp')).toBe(false);
    expect(url.searchParams.get('token')).toBe(plain.searchParams.get('token'));
    expect(
      verifyWebhookToken('secret-1', 'task-9', url.searchParams.get('token'), url.searchParams.get('exp'), 0),
    ).toBe('ok');
  });
});
