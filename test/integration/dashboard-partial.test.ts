// The dashboard's view of a partial task over HTTP (no browser): its own counter and filter on the
// batch page, the failed slot's code and reason on its card, and retry-failed's billed count.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HEADER } from '../../src/dashboard/dashboard-auth.js';
import { type DashboardPipeline, startDashboardPipeline } from '../helpers/browser.js';
import { waitForBatch } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

let p: DashboardPipeline;
let batchId: string;
const taskUUID = randomUUID();

beforeAll(async () => {
  p = await startDashboardPipeline({ env: { SLOT_RETRY_ATTEMPTS: '0', FIRST_POLL_AFTER_MS: '400' } });
  p.sim.failItems([{ taskUUID, index: 1 }]);
  const batch = await p.producer.enqueueBatch([
    { positivePrompt: 'two of three made it', width: 1024, height: 1024, numberResults: 3, taskUUID },
    { positivePrompt: 'a whole one', width: 1024, height: 1024 },
  ]);
  batchId = batch.batchId;
  await waitForBatch(p, batchId, 30_000);
});

afterAll(async () => {
  await p?.close();
});

const get = async (path: string) => {
  const res = await fetch(new URL(path, p.dashboardUrl));
  expect(res.status).toBe(200);
  return res.text();
};

describe('dashboard: partial tasks', () => {
  it('the batch page counts partial tasks apart and offers them as a filter', async () => {
    const page = await get(`batches/${batchId}`);
    expect(page).toMatch(/data-field="partial">1</);
    expect(page).toMatch(/data-field="completed">1</);
    expect(page).toMatch(/data-field="failed">0</);
    expect(page).toContain('data-segment="partial"');
    expect(page).toContain('<option value="partial">Partial</option>');
    expect(page).toMatch(/data-action="retry-failed"[^>]*>Retry failed/);
    expect(page).not.toMatch(/data-action="retry-failed"[^>]*disabled/);
  });

  it('a partial task card lists its failed slot with code and reason; the filter finds only it', async () => {
    const gallery = await get(`batches/${batchId}/gallery?status=partial`);
    expect(gallery).toContain('data-count="1"');
    expect(gallery).toContain(`data-task="${taskUUID}"`);
    expect(gallery).toContain('data-state="partial"');
    expect(gallery).toMatch(/slot 2: <strong>timeoutProvider<\/strong>: /);
  });

  it('retry-failed answers how many images it bills, and the partial task completes', async () => {
    const res = await fetch(new URL(`api/batches/${batchId}/retry-failed`, p.dashboardUrl), {
      method: 'POST',
      headers: { [ACTION_HEADER]: '1' },
    });
    const body = await res.json();
    expect(body).toMatchObject({ ok: true, retried: 1, billedImages: 1 });
    await until(
      async () => (await p.svc.tasks.get(taskUUID))?.state === 'completed',
      30_000,
      'the partial task completes',
    );
  });
});
