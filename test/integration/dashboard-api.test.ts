// The dashboard over HTTP, without a browser: who may see it, what its JSON API and media routes
// answer for a finished batch, and that its stream reports progress. One pipeline for the file.
import { request } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/dashboard/dashboard-auth.js';
import type { DashboardContext } from '../../src/dashboard/dashboard-context.js';
import { isLoopbackAddress } from '../../src/dashboard/loopback-host.js';
import { mountDashboard } from '../../src/dashboard/mount-dashboard.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { type DashboardPipeline, startDashboardPipeline } from '../helpers/browser.js';
import { testConfig, testSecret } from '../helpers/env.js';
import { waitForBatch } from '../helpers/pipeline.js';

const TOKEN = testSecret();
const bearer = { authorization: `Bearer ${TOKEN}` };

let p: DashboardPipeline;
let batchId: string;

beforeAll(async () => {
  p = await startDashboardPipeline({
    sim: { faults: { itemError: 0 } },
    dashboard: { token: TOKEN },
    alsoMount: (app, ctx) =>
      mountDashboard(app, ctx, { token: TOKEN, basePath: '/direct/', imageProxy: false }),
  });
  const tasks = [
    { positivePrompt: 'a red lighthouse at dusk', width: 1024, height: 1024, numberResults: 2 },
    { positivePrompt: 'a green teapot on a table', width: 1024, height: 1024, seed: 42 },
    { positivePrompt: 'a blue whale in the sky', width: 1024, height: 1024 },
  ];
  const batch = await p.producer.enqueueBatch(tasks);
  batchId = batch.batchId;
  await waitForBatch(p, batchId, 30_000);
});

afterAll(async () => {
  await p?.close();
});

/** GET with exact headers (fetch would not let a test choose the Host header). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard auth', () => {
  it('treats 127.0.0.0/8, ::1 and localhost as loopback, and nothing else', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(h), h).toBe(true);
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.2',
      'example.com',
      '127.0.0.1.nip.io',
      '',
      '::ffff:10.0.0.1',
    ])
      expect(isLoopbackAddress(h), h).toBe(false);
  });

  it('refuses to mount beyond loopback without a token, naming DASHBOARD_TOKEN', () => {
    const ctx = {
      config: testConfig({ HOST: '0.0.0.0' }),
      logger: silentLogger,
    } as unknown as DashboardContext;
    expect(() => mountDashboard(express(), ctx, {})).toThrow(ConfigError);
    expect(() => mountDashboard(express(), ctx, {})).toThrow(/DASHBOARD_TOKEN/);
  });

  it('answers 401 with a basic-auth challenge without the token, and 200 with it as Bearer or basic password', async () => {
    const none = await fetch(`${p.dashboardUrl}api/batches`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await fetch(`${p.dashboardUrl}api/batches`, { headers: bearer })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    expect((await fetch(`${p.dashboardUrl}`, { headers: { authorization: basic } })).status).toBe(200);
    const wrong = `Basic ${Buffer.from('anyone:not-the-token').toString('base64')}`;
    expect((await fetch(`${p.dashboardUrl}`, { headers: { authorization: wrong } })).status).toBe(401);
    expect((await fetch(`${p.dashboardUrl}admin/queues/`)).status).toBe(401);
    expect((await fetch(`${p.dashboardUrl}admin/queues/`, { headers: bearer })).status).toBe(200);
  });

  it('a ?token= link sets an HttpOnly SameSite=Strict session cookie and drops the token from the URL', async () => {
    const res = await fetch(`${p.dashboardUrl}batches/${batchId}?token=${TOKEN}&status=failed`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/batches/${batchId}?status=failed`);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[0-9a-f]{64};`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    expect((await fetch(`${p.dashboardUrl}api/batches`, { headers: { cookie: session } })).status).toBe(200);
  });

  it('leaves health, metrics and webhook routes unprotected', async () => {
    expect((await fetch(`${p.svc.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${p.svc.url}/metrics`)).status).toBe(200);
    const hook = await fetch(`${p.svc.url}/webhooks/runware/x`, { method: 'POST', body: '{}' });
    expect(hook.status).not.toBe(401);
  });

  it('refuses actions without the action header, so a cross-site form cannot post them', async () => {
    const res = await fetch(`${p.dashboardUrl}api/queue/resume`, { method: 'POST', headers: bearer });
    expect(res.status).toBe(403);
  });

  it('without a token, answers only requests addressed to a loopback name (no DNS rebinding)', async () => {
    const open = await startDashboardPipeline({ dashboard: {} });
    try {
      const { port } = new URL(open.dashboardUrl);
      expect((await rawGet(`${open.dashboardUrl}api/queue`, { host: `localhost:${port}` })).status).toBe(200);
      expect((await rawGet(`${open.dashboardUrl}api/queue`, { host: `evil.example:${port}` })).status).toBe(
        403,
      );
    } finally {
      await open.close();
    }
  });
});

describe('dashboard API and media', () => {
  it('lists the batch and pages its tasks with cost, seed, size and outputs', async () => {
    const list = (await (await fetch(`${p.dashboardUrl}api/batches`, { headers: bearer })).json()) as {
      batches: { batchId: string; completed: number }[];
      queue: { paused: boolean };
    };
    expect(list.batches.map((b) => b.batchId)).toContain(batchId);
    expect(list.queue.paused).toBe(false);
    const detail = (await (
      await fetch(`${p.dashboardUrl}api/batches/${batchId}?limit=2`, { headers: bearer })
    ).json()) as {
      batch: { completed: number; overdue: number; held: boolean | null };
      tasks: { outputs: unknown[]; cost: number; width: number }[];
      next: number | null;
    };
    expect(detail.batch).toMatchObject({ completed: 3, overdue: 0 });
    expect(detail.tasks).toHaveLength(2);
    expect(detail.next).toBe(2);
    expect(detail.tasks[0]?.outputs).toHaveLength(2);
    expect(detail.tasks[0]?.width).toBe(1024);
    expect(detail.tasks[0]?.cost).toBeGreaterThan(0);
  });

  it('filters by status and finds tasks by prompt text or taskUUID', async () => {
    const get = async (query: string) =>
      (await (
        await fetch(`${p.dashboardUrl}api/batches/${batchId}?${query}`, { headers: bearer })
      ).json()) as {
        tasks: { taskUUID: string; positivePrompt: string }[];
      };
    expect((await get('status=completed')).tasks).toHaveLength(3);
    expect((await get('status=failed')).tasks).toHaveLength(0);
    const teapot = await get('q=TEAPOT');
    expect(teapot.tasks.map((t) => t.positivePrompt)).toEqual(['a green teapot on a table']);
    const uuid = teapot.tasks[0]!.taskUUID;
    expect((await get(`q=${uuid}`)).tasks.map((t) => t.taskUUID)).toEqual([uuid]);
    expect((await get(`q=${uuid.slice(0, 13)}`)).tasks.map((t) => t.taskUUID)).toEqual([uuid]);
    const first = (await get('status=completed&limit=1')) as unknown as { next: number; tasks: unknown[] };
    expect(first).toMatchObject({ next: 1, scanned: 1 });
    const last = (await get('status=completed&limit=2&offset=1')) as unknown as {
      next: number | null;
      tasks: unknown[];
    };
    expect(last.tasks).toHaveLength(2);
    expect(last.next).toBeNull();
    const bad = await fetch(`${p.dashboardUrl}api/batches/${batchId}?status=nonsense`, { headers: bearer });
    expect(bad.status).toBe(400);
  });

  it('streams stored images through the server and renders WEBP thumbnails', async () => {
    const [task] = (
      (await (
        await fetch(`${p.dashboardUrl}api/batches/${batchId}?limit=1`, { headers: bearer })
      ).json()) as {
        tasks: { taskUUID: string; outputs: { slot: number; key: string; contentType: string }[] }[];
      }
    ).tasks;
    const out = task!.outputs[1]!;
    const full = await fetch(`${p.dashboardUrl}media/${task!.taskUUID}/${out.slot}`, { headers: bearer });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe(out.contentType);
    expect(Buffer.from(await full.arrayBuffer()).equals(await p.svc.store.get(out.key))).toBe(true);
    const thumb = await fetch(`${p.dashboardUrl}media/${task!.taskUUID}/${out.slot}?thumb=1`, {
      headers: bearer,
    });
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(
      Buffer.from(await thumb.arrayBuffer())
        .subarray(8, 12)
        .toString('latin1'),
    ).toBe('WEBP');
    expect((await fetch(`${p.dashboardUrl}media/${task!.taskUUID}/7`, { headers: bearer })).status).toBe(404);
    expect((await fetch(`${p.dashboardUrl}media/..%2f..%2fetc/0`, { headers: bearer })).status).toBe(404);
  });

  it('in redirect mode, sends the browser to a short-lived presigned URL instead', async () => {
    const [task] = (
      (await (
        await fetch(`${p.dashboardUrl}api/batches/${batchId}?limit=1`, { headers: bearer })
      ).json()) as {
        tasks: { taskUUID: string; outputs: { key: string }[] }[];
      }
    ).tasks;
    const res = await fetch(`${p.svc.url}/direct/media/${task!.taskUUID}/0`, {
      headers: bearer,
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/X-Amz-Expires=300/);
    const image = await fetch(location);
    expect(Buffer.from(await image.arrayBuffer()).equals(await p.svc.store.get(task!.outputs[0]!.key))).toBe(
      true,
    );
  });

  it('shows a batch held by its budget, with the budget, in the API and on the page', async () => {
    const held = `held-${Date.now()}`;
    await p.svc.batches.open({ batchId: held, budgetUsd: 0.01 });
    await p.svc.batches.seal(held);
    const verdict = await p.svc.batches.admitToBudget(held, crypto.randomUUID(), 0.04);
    expect(verdict).toMatchObject({ admitted: false, heldNow: true });
    const api = (await (await fetch(`${p.dashboardUrl}api/batches/${held}`, { headers: bearer })).json()) as {
      batch: { held: boolean; budgetUsd: number };
    };
    expect(api.batch).toMatchObject({ held: true, budgetUsd: 0.01 });
    const page = await (await fetch(`${p.dashboardUrl}batches/${held}`, { headers: bearer })).text();
    expect(page).toMatch(/data-field="held"[^>]*>held</);
    expect(page).not.toMatch(/data-field="held"[^>]* hidden/);
    expect(page).toContain('$0.0100');
  });

  it('streams the batch status as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${p.dashboardUrl}api/batches/${batchId}/stream`, {
      headers: bearer,
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const statusEvent = /event: status\ndata: (.*)\n\n/;
    // Read until a whole status event has arrived (a comment or retry line may come first).
    while (!statusEvent.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    const data = statusEvent.exec(text)?.[1];
    expect(JSON.parse(data!)).toMatchObject({ batch: { batchId, completed: 3 }, queue: { paused: false } });
  });
});
