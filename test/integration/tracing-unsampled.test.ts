// A task's sampling is decided once, at enqueue: with a sampler that drops it, nothing is stored with
// the task (so no later process records spans for it) and nothing is exported.
import { afterAll, describe, expect, it } from 'vitest';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { startTaskTrace, taskAttributes } from '../../src/tracing/spans.js';
import { startTracing, stopTracing } from '../../src/tracing/start-tracing.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await stopTracing();
  await receiver?.close();
});

describe('an unsampled task', () => {
  it('stores no traceparent and exports no span', async () => {
    receiver = await startOtlpReceiver();
    const tracing = startTracing(
      loadTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
      }),
      'cli',
    );
    expect(tracing.enabled).toBe(true);
    expect(startTaskTrace(taskAttributes('t-3', 'b-3'))).toBeUndefined();
    await tracing.flush();
    expect(receiver.spans).toHaveLength(0);
  });
});
