// The operator routes of issue 15 over HTTP: each action needs the dashboard token and the action
// header like the batch actions do; task retry/cancel answer by state; replay and re-enable validate
// their input; the chart and delivery JSON come from recorded state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../src/control/audit-trail.js';
import { ACTION_HEADER } from '../../src/dashboard/dashboard-auth.js';
import { type DashboardPipeline, startDashboardPipeline } from '../helpers/browser.js';
import { testSecret } from '../helpers/env.js';
import { waitForBatch } from '../helpers/pipeline.js';

const TOKEN = testSecret();
const auth = { authorization: `Bearer ${TOKEN}` };
const act = { ...auth, [ACTION_HEADER]: '1' };

let p: DashboardPipeline;
let batchId: string;
let taskUUID: string;

beforeAll(async () => {
  p = await startDashboardPipeline({ dashboard: { token: TOKEN } });
  const b = await p.producer.enqueueBatch([
    { positivePrompt: 'one', width: 1024, height: 1024, numberResults: 2 },
    { positivePrompt: 'two', width: 1024, height: 1024 },
  ]);
  batchId = b.batchId;
  await waitForBatch(p, batchId);
  [taskUUID] = (await p.svc.batches.taskUUIDs(batchId, 0, 1)) as [string];
});

afterAll(async () => {
  await p?.close();
});

const post = (path: string, headers: Record<string, string>) =>
  fetch(`${p.dashboardUrl}${path}`, { method: 'POST', headers });

describe('operator action routes', () => {
  const routes = () => [
    `api/tasks/${taskUUID}/retry`,
    `api/tasks/${taskUUID}/cancel`,
    'api/endpoints/enable?url=http%3A%2F%2F127.0.0.1%3A9%2F',
    'api/deliveries/replay?url=http%3A%2F%2F127.0.0.1%3A9%2F&from=0-1',
  ];

  it('refuse a request without the dashboard token (401) or without the action header (403)', async () => {
    for (const path of routes()) {
      expect((await post(path, {})).status, path).toBe(401);
      expect((await post(path, auth)).status, path).toBe(403);
    }
  });

  it('a completed task can be neither retried nor cancelled; an unknown one is 404', async () => {
    expect((await post(`api/tasks/${taskUUID}/retry`, act)).status).toBe(409);
    expect((await post(`api/tasks/${taskUUID}/cancel`, act)).status).toBe(409);
    expect((await post('api/tasks/00000000-0000-4000-8000-000000000000/cancel', act)).status).toBe(404);
  });

  it('a queued task is cancelled from its route and never submitted', async () => {
    await p.svc.queue.pause();
    try {
      const b = await p.producer.enqueueBatch([{ positivePrompt: 'never runs', width: 1024, height: 1024 }]);
      const [uuid] = await p.svc.batches.taskUUIDs(b.batchId, 0, 1);
      const r = await post(`api/tasks/${uuid}/cancel`, act);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ ok: true, outcome: 'removed' });
      expect((await p.svc.tasks.get(uuid!))?.state).toBe('cancelled');
      // Audited like the batch actions: who, what, which task, billing nothing.
      const [entry] = await readAuditTrail(p.svc, { limit: 1 });
      expect(entry).toMatchObject({ action: 'cancel-task', taskUUIDs: [uuid], mayBillImages: 0 });
      expect(entry?.actor).toMatch(/^tok_[0-9a-f]{12}$/);
    } finally {
      await p.svc.queue.resume();
    }
  });

  it('re-enabling an endpoint and replaying its events leave one audit entry each', async () => {
    const url = 'http%3A%2F%2F127.0.0.1%3A9%2F';
    expect((await post(`api/endpoints/enable?url=${url}`, act)).status).toBe(200);
    expect((await post(`api/deliveries/replay?url=${url}&from=0-1`, act)).status).toBe(200);
    const [replay, enable] = await readAuditTrail(p.svc, { limit: 2 });
    expect(enable).toMatchObject({ action: 'enable-endpoint', tasks: 0, mayBillImages: 0 });
    expect(replay).toMatchObject({ action: 'replay-events', tasks: 0, mayBillImages: 0 });
    expect(replay?.detail).toMatchObject({ url: 'http://127.0.0.1:9/', from: '0-1' });
  });

  it('replay refuses a bad cursor and needs url and from', async () => {
    expect((await post('api/deliveries/replay?url=http%3A%2F%2Fx%2F&from=yesterday-ish', act)).status).toBe(
      400,
    );
    expect((await post('api/deliveries/replay?url=http%3A%2F%2Fx%2F', act)).status).toBe(400);
  });

  it('the task page and the JSON charts answer from recorded state', async () => {
    const page = await fetch(`${p.dashboardUrl}tasks/${taskUUID}`, { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const charts = (await (
      await fetch(`${p.dashboardUrl}api/batches/${batchId}/charts`, { headers: auth })
    ).json()) as {
      totals: { completed: number; results: number };
      webhook: number;
      poll: number;
    };
    expect(charts.totals).toMatchObject({ completed: 2, results: 3 });
    expect(charts.webhook + charts.poll).toBe(3);
    const missing = await fetch(`${p.dashboardUrl}tasks/not-a-task`, { headers: auth });
    expect(missing.status).toBe(404);
  });
});
