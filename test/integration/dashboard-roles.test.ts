// Roles on a real server: a viewer token (DASHBOARD_VIEWER_TOKEN) gets 200 on every page, JSON read,
// bull-board (read-only), SSE and /metrics, and 403 on every action route — ours, found by walking the
// app's routers so a new route cannot be missed, and bull-board's whole mutation API. The operator's
// actions each leave exactly one audit entry and one `operator.action` event; so do the CLI's.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountOperatorSurface } from '../../src/cli/operator-surface.js';
import { type AuditEntry, readAuditTrail } from '../../src/control/audit-trail.js';
import { ACTION_HEADER } from '../../src/dashboard/dashboard-auth.js';
import { parseStreamEntry } from '../../src/events/event-types.js';
import { tokenId } from '../../src/tokens/access-tokens.js';
import { testSecret } from '../helpers/env.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

const OPERATOR = testSecret();
const VIEWERS = [testSecret(), testSecret()];
const METRICS = testSecret();
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const action = (token: string) => ({
  ...as(token),
  [ACTION_HEADER]: '1',
  'content-type': 'application/json',
});

let p: Pipeline;
let app: Express | undefined;
let base: string;
let batchId: string;
let failedBatch: string;
let taskUUID: string;

beforeAll(async () => {
  p = await startPipeline({
    env: {
      DASHBOARD_TOKEN: OPERATOR,
      DASHBOARD_VIEWER_TOKEN: VIEWERS.join(','),
      METRICS_TOKEN: METRICS,
    },
    mount: (a, ctx) => {
      app = a;
      mountOperatorSurface(a, ctx);
    },
  });
  base = `${p.svc.url}/`;
  const ok = await p.producer.enqueueBatch([{ positivePrompt: 'a viewer looks', width: 1024, height: 1024 }]);
  batchId = ok.batchId;
  await waitForBatch(p, batchId, 30_000);
  p.sim.setFaults({ itemError: 1 });
  const bad = await p.producer.enqueueBatch([
    { positivePrompt: 'this one fails', width: 1024, height: 1024, numberResults: 2 },
  ]);
  failedBatch = bad.batchId;
  await waitForBatch(p, failedBatch, 30_000);
  p.sim.setFaults({ itemError: 0 });
  taskUUID = (await p.svc.batches.taskUUIDs(batchId, 0, 1))[0]!;
});

afterAll(async () => {
  await p?.close();
});

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
}

/** Every non-GET route of the app's routers (ours: the bull-board router is wrapped, listed apart). */
function actionRoutes(a: Express): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: RouteLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [m, on] of Object.entries(layer.route.methods))
          if (on && m !== 'get' && m !== 'head' && m !== '_all')
            out.push({ method: m, path: layer.route.path });
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((a as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  return out.filter((r) => !r.path.startsWith('/webhooks/'));
}

function fill(path: string): string {
  return path
    .replace(':batchId', batchId)
    .replace(':taskUUID', taskUUID)
    .replace(':queueName', p.config.QUEUE_NAME)
    .replace(':jobId', taskUUID)
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'none')
    .replace(/^\//, '');
}

async function audit(): Promise<AuditEntry[]> {
  return readAuditTrail(p.svc);
}

async function operatorEvents(): Promise<number> {
  const raw = (await p.redis.xrange(p.svc.tasks.keys.events(), '-', '+')) as [string, string[]][];
  return raw.filter(([id, f]) => parseStreamEntry(id, f)?.type === 'operator.action').length;
}

describe('viewer tokens', () => {
  it('read every page, JSON view, bull-board, the audit trail, SSE and metrics (200)', async () => {
    for (const viewer of VIEWERS) {
      for (const path of [
        '',
        `batches/${batchId}`,
        `batches/${batchId}/gallery`,
        'audit',
        'api/queue',
        'api/batches',
        `api/batches/${batchId}`,
        `api/tasks/${taskUUID}`,
        'api/audit',
        `media/${taskUUID}/0`,
        'admin/queues/',
        'admin/queues/api/queues',
      ]) {
        const res = await fetch(`${base}${path}`, { headers: as(viewer) });
        expect(res.status, `GET /${path}`).toBe(200);
        await res.arrayBuffer();
      }
      for (const path of [`api/batches/${batchId}/stream`, `events?batch=${batchId}`]) {
        const ctl = new AbortController();
        const res = await fetch(`${base}${path}`, { headers: as(viewer), signal: ctl.signal });
        expect(res.status, `GET /${path}`).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
        ctl.abort();
      }
      expect((await fetch(`${base}metrics`, { headers: as(viewer) })).status).toBe(200);
    }
  });

  it('bull-board is read-only for a viewer and writable for the operator', async () => {
    const queues = async (t: string) =>
      (await (await fetch(`${base}admin/queues/api/queues`, { headers: as(t) })).json()) as {
        queues: { readOnlyMode: boolean }[];
      };
    expect((await queues(VIEWERS[0]!)).queues.map((q) => q.readOnlyMode)).toEqual([true]);
    expect((await queues(OPERATOR)).queues.map((q) => q.readOnlyMode)).toEqual([false]);
  });

  it('get 403 on every action route, ours and bull-board’s, and nothing is done or audited', async () => {
    const ours = actionRoutes(app!);
    expect(ours.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'post /api/batches/:batchId/retry-failed',
        'post /api/batches/:batchId/cancel',
        'post /api/queue/resume',
        'post /api/batches/:batchId/budget',
      ]),
    );
    const board = appRoutes.api.flatMap((r) =>
      (Array.isArray(r.method) ? r.method : [r.method])
        .filter((m) => m !== 'get')
        .flatMap((method) =>
          (Array.isArray(r.route) ? r.route : [r.route]).map((path) => ({
            method: String(method),
            path: `/admin/queues${path}`,
          })),
        ),
    );
    expect(board.length).toBeGreaterThan(20);
    const before = (await audit()).length;
    const jobsBefore = await p.svc.queue.getJobCounts();
    for (const r of [...ours, ...board]) {
      const res = await fetch(`${base}${fill(r.path)}`, {
        method: r.method.toUpperCase(),
        headers: action(VIEWERS[1]!),
        body: JSON.stringify({ usd: 100 }),
      });
      expect(res.status, `${r.method} ${r.path}`).toBe(403);
    }
    expect((await audit()).length).toBe(before);
    expect(await p.svc.queue.getJobCounts()).toEqual(jobsBefore);
    expect((await p.svc.batches.get(failedBatch))?.failed).toBe(1);
  });

  it('without any token, the dashboard, /events and /metrics answer 401; /healthz stays open', async () => {
    for (const path of ['', 'api/batches', 'admin/queues/', 'events', 'metrics'])
      expect((await fetch(`${base}${path}`)).status, `/${path}`).toBe(401);
    expect((await fetch(`${base}metrics`, { headers: as(METRICS) })).status).toBe(200);
    expect((await fetch(`${base}metrics`, { headers: as(testSecret()) })).status).toBe(401);
    expect((await fetch(`${base}healthz`)).status).toBe(200);
  });
});

describe('the audit trail', () => {
  it('each operator action leaves exactly one entry and one operator.action event', async () => {
    const before = await audit();
    const eventsBefore = await operatorEvents();
    const post = (path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: action(OPERATOR),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const [failedTask] = await p.svc.batches.taskUUIDs(failedBatch, 0, 1);

    expect((await post(`api/batches/${failedBatch}/retry-failed`)).status).toBe(200);
    await waitForBatch(p, failedBatch, 30_000);
    const spent = (await p.svc.batches.get(failedBatch))?.cost ?? 0;
    expect((await post(`api/batches/${failedBatch}/budget`, { usd: 2 })).status).toBe(200);
    expect((await post(`api/batches/${batchId}/cancel`)).status).toBe(200);
    expect((await post('api/queue/resume')).status).toBe(200);

    const added = (await audit()).slice(0, (await audit()).length - before.length).reverse();
    const who = tokenId(OPERATOR);
    expect(added.map((e) => [e.action, e.actor, e.batchId ?? null])).toEqual([
      ['retry-failed', who, failedBatch],
      ['budget', who, failedBatch],
      ['cancel', who, batchId],
      ['resume', who, null],
    ]);
    expect(added[0]).toMatchObject({ taskUUIDs: [failedTask], tasks: 1, mayBillImages: 2 });
    // The room under the new budget at $0.04 an image.
    expect(added[1]).toMatchObject({
      mayBillImages: Math.floor((2 - spent) / 0.04 + 1e-9),
      detail: { budgetUsd: 2 },
    });
    expect(added[2]).toMatchObject({ mayBillImages: 0 });
    expect(added[3]).toMatchObject({ mayBillImages: null });
    expect(JSON.stringify(added)).not.toContain(OPERATOR);
    expect(await operatorEvents()).toBe(eventsBefore + 4);

    const page = await (await fetch(`${base}audit`, { headers: as(VIEWERS[0]!) })).text();
    expect(page).toContain(who);
    expect(page).toContain('retry-failed');
  });

  it('a CLI action is audited as cli@<host>, and `kontext-relay audit --since` prints it', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      REDIS_URL: p.config.REDIS_URL,
      QUEUE_PREFIX: p.config.QUEUE_PREFIX,
      QUEUE_NAME: p.config.QUEUE_NAME,
      LOG_LEVEL: 'silent',
    };
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env });
    const before = (await audit()).length;
    const set = cli('budget', failedBatch, '3');
    expect(set.status, set.stderr).toBe(0);
    expect((await audit()).length).toBe(before + 1);
    const printed = cli('audit', '--since', '1h', '--json');
    expect(printed.status, printed.stderr).toBe(0);
    const lines = printed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines).toHaveLength(before + 1);
    expect(lines[0]).toMatchObject({ action: 'budget', actor: `cli@${hostname()}`, batchId: failedBatch });
  });
});
