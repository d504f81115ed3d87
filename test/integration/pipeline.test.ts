// The core pipeline end to end on real parts: producer → worker → simulator (HTTP) → webhook server
// → S3. Each run checks the invariants: every task ended with a reason, stored objects equal the
// provider's results byte for byte, nothing stored twice, nothing stuck.
import { afterEach, describe, expect, it } from 'vitest';
import { checkInvariants, type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

const task = (i: number, extra: Record<string, unknown> = {}) => ({
  positivePrompt: `test prompt number ${i}`,
  width: 1024,
  height: 1024,
  outputQuality: 80,
  ...extra,
});

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('pipeline, webhook mode', () => {
  it('a single task is submitted, delivered by webhook, stored and completed with its outputs', async () => {
    p = await startPipeline();
    const r = await p.producer.enqueue(task(1, { seed: '9223372036854775807' }));
    const deadline = Date.now() + 20_000;
    let job = await p.svc.queue.getJob(r.taskUUID);
    while ((await job?.getState()) !== 'completed' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      job = await p.svc.queue.getJob(r.taskUUID);
    }
    job = await p.svc.queue.getJob(r.taskUUID);
    const outputs = job?.returnvalue.outputs ?? [];
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toMatchObject({ seed: '9223372036854775807', contentType: 'image/jpeg' });
    const [generated] = p.sim.results();
    expect(outputs[0]?.sha256).toBe(generated?.sha256);
    expect(generated?.seed).toBe('9223372036854775807');
    const head = await p.svc.store.head(outputs[0]!.key);
    expect(head?.metadata).toMatchObject({
      taskuuid: r.taskUUID,
      imageuuid: generated?.imageUUID,
      seed: '9223372036854775807',
    });
  });

  it('enqueueing the same task twice runs it once', async () => {
    p = await startPipeline();
    const t = task(1, { taskUUID: crypto.randomUUID() });
    const a = await p.producer.enqueue(t);
    const b = await p.producer.enqueue(t);
    const c = await p.producer.enqueue(task(2), { idempotencyKey: 'order-42' });
    const d = await p.producer.enqueue(task(2), { idempotencyKey: 'order-42' });
    expect([a.duplicate, b.duplicate, c.duplicate, d.duplicate]).toEqual([false, true, false, true]);
    expect(c.taskUUID).toBe(d.taskUUID);
    const batch = await p.producer.enqueueBatch([t, task(3)]);
    expect(batch).toMatchObject({ total: 1, enqueued: 1, duplicates: 1 });
    const again = await p.producer.enqueueBatch([task(4, { taskUUID: crypto.randomUUID() })], {
      batchId: batch.batchId,
    });
    expect(again).toMatchObject({ total: 2, enqueued: 1, duplicates: 0 });
    await waitForBatch(p, batch.batchId);
    expect(p.sim.stats().tasksAccepted).toBe(4);
  });

  it('a batch with numberResults > 1 and all output types and formats stores every image once', async () => {
    p = await startPipeline();
    const tasks = [
      task(1, { numberResults: 3, outputType: 'URL', outputFormat: 'PNG' }),
      task(2, { numberResults: 2, outputType: 'base64Data', outputFormat: 'WEBP' }),
      task(3, { outputType: 'dataURI', outputFormat: 'JPG', width: 1568, height: 672 }),
    ];
    const batch = await p.producer.enqueueBatch(tasks);
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 3, failed: 0 });
    const report = await checkInvariants(p, batch.batchId);
    expect(report.objects).toBe(6);
  });

  it('dropped, duplicated, reordered and early webhooks still end with every output stored once', async () => {
    p = await startPipeline({
      sim: {
        faults: {
          dropWebhook: 0.3,
          duplicateWebhook: 0.5,
          reorderWebhooks: 0.5,
          webhookBeforeAck: 0.5,
          flatWebhookBody: 0.3,
        },
        seed: 7,
      },
    });
    const batch = await p.producer.enqueueBatch(
      Array.from({ length: 30 }, (_, i) => task(i, { numberResults: 1 + (i % 3) })),
    );
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 30 });
    const report = await checkInvariants(p, batch.batchId);
    expect(report.recoveredByPolling).toBeGreaterThan(0);
    expect(p.sim.stats().webhooksDuplicated).toBeGreaterThan(0);
  });

  it('429 and 5xx on submit are retried; with slot retries off, item errors fail the task with the provider reason', async () => {
    p = await startPipeline({
      env: { SLOT_RETRY_ATTEMPTS: '0' },
      sim: {
        faults: { submit429: 0.2, submit500: 0.1, submit503: 0.1, submit504: 0.1, itemError: 0.2 },
        seed: 3,
      },
    });
    const batch = await p.producer.enqueueBatch(Array.from({ length: 30 }, (_, i) => task(i)));
    const s = await waitForBatch(p, batch.batchId);
    expect(s.completed + s.failed).toBe(30);
    expect(s.failed).toBeGreaterThan(0);
    expect(p.sim.stats().submitFaults).toBeGreaterThan(0);
    await checkInvariants(p, batch.batchId);
    const { readBatchTasks } = await import('../../src/status/read-status.js');
    const failed = (await readBatchTasks(p.svc, batch.batchId, 0, 100)).filter((t) => t.state === 'failed');
    for (const t of failed) expect(t.reason).toMatch(/^timeoutProvider: /);
  });

  it('a refused API key pauses the queue and fails nothing, saying why', async () => {
    p = await startPipeline({ sim: { apiKey: 'the-right-key' } });
    const batch = await p.producer.enqueueBatch([task(1), task(2)]);
    const deadline = Date.now() + 10_000;
    while (!(await p.svc.queue.isPaused()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await p.svc.queue.isPaused()).toBe(true);
    expect(await p.svc.tasks.queuePausedReason()).toMatch(/invalidApiKey/);
    const counts = await p.svc.queue.getJobCounts('completed', 'failed', 'waiting');
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBe(0);
    expect(batch.total).toBe(2);
  });
});

describe('pipeline, upload mode', () => {
  it('uploads land in S3 through presigned URLs, one per result, confirmed and hashed', async () => {
    p = await startPipeline({ env: { DELIVERY_MODE: 'upload' } });
    const batch = await p.producer.enqueueBatch([
      task(1, { numberResults: 3 }),
      task(2, { outputFormat: 'PNG' }),
    ]);
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 2 });
    const report = await checkInvariants(p, batch.batchId);
    expect(report.objects).toBe(4);
    expect(p.sim.stats().uploads).toBe(4);
  });

  it('a failed or slow provider upload falls back to fetching the result', async () => {
    p = await startPipeline({
      env: { DELIVERY_MODE: 'upload', UPLOAD_CONFIRM_TIMEOUT_MS: '1500' },
      sim: { faults: { uploadFail: 0.5, slowUpload: 0.5 }, seed: 11 },
    });
    const batch = await p.producer.enqueueBatch(Array.from({ length: 8 }, (_, i) => task(i)));
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 8 });
    await checkInvariants(p, batch.batchId);
    expect(p.sim.stats().uploadsFailed).toBeGreaterThan(0);
  });
});
