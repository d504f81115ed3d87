// The task page links to the task's trace when TRACE_URL_TEMPLATE is set and the task was traced; a
// task enqueued with tracing off, or a dashboard without the template, shows no link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { startTracing, stopTracing } from '../../src/tracing/start-tracing.js';
import { type DashboardPipeline, startDashboardPipeline } from '../helpers/browser.js';
import { testSecret } from '../helpers/env.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { waitForBatch } from '../helpers/pipeline.js';

const TOKEN = testSecret();
const auth = { authorization: `Bearer ${TOKEN}` };
const TEMPLATE = 'http://jaeger.example:16686/trace/{traceId}';
const task = { positivePrompt: 'linked', width: 1024, height: 1024 };

let p: DashboardPipeline;
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  p = await startDashboardPipeline({ dashboard: { token: TOKEN, traceUrlTemplate: TEMPLATE } });
});

afterAll(async () => {
  await p?.close();
  await stopTracing();
  await receiver?.close();
});

async function taskPage(): Promise<{ uuid: string; html: string; trace: string | undefined }> {
  const b = await p.producer.enqueueBatch([task]);
  await waitForBatch(p, b.batchId);
  const [uuid] = (await p.svc.batches.taskUUIDs(b.batchId, 0, 1)) as [string];
  const job = await p.svc.queue.getJob(uuid);
  const res = await fetch(`${p.dashboardUrl}tasks/${uuid}`, { headers: auth });
  expect(res.status).toBe(200);
  return { uuid, html: await res.text(), trace: job?.data.trace };
}

describe('task page trace link', () => {
  it('is absent for a task enqueued with tracing off', async () => {
    const page = await taskPage();
    expect(page.trace).toBeUndefined();
    expect(page.html).not.toContain('data-trace-link');
  });

  it('links to the template with the task’s trace id when the task was traced', async () => {
    startTracing(
      loadTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
      'test',
    );
    const page = await taskPage();
    const traceId = page.trace?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(page.html).toContain(`href="http://jaeger.example:16686/trace/${traceId}"`);
    expect(page.html).toContain('data-trace-link');
  });
});
