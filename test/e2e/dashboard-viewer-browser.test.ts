// The viewer role in a real headless Chromium: a DASHBOARD_VIEWER_TOKEN sees the batch page, bull-board
// and the audit trail (200), and the dashboard's own buttons answer its clicks with the 403 refusal,
// changing nothing; the operator's click then works and shows up on the audit page with its token id.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountOperatorSurface } from '../../src/cli/operator-surface.js';
import { readAuditTrail } from '../../src/control/audit-trail.js';
import { tokenId } from '../../src/tokens/access-tokens.js';
import { launchBrowser } from '../helpers/browser.js';
import { testSecret } from '../helpers/env.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

const OPERATOR = testSecret();
const VIEWER = testSecret();
const UI_TIMEOUT_MS = 15_000;
const REFUSAL = /^Failed: this token may view the dashboard but not act/;

let p: Pipeline;
let base: string;
let browser: Browser;
let viewer: BrowserContext;
let operator: BrowserContext;
let failedBatch: string;

const task = (prompt: string) => ({ positivePrompt: prompt, width: 1024, height: 1024 });

beforeAll(async () => {
  [p, browser] = await Promise.all([
    startPipeline({
      env: { DASHBOARD_TOKEN: OPERATOR, DASHBOARD_VIEWER_TOKEN: VIEWER },
      mount: mountOperatorSurface,
    }),
    launchBrowser(),
  ]);
  base = `${p.svc.url}/`;
  const contextFor = (password: string) =>
    browser.newContext({
      httpCredentials: { username: 'someone', password },
      viewport: { width: 1280, height: 1000 },
    });
  [viewer, operator] = await Promise.all([contextFor(VIEWER), contextFor(OPERATOR)]);
  p.sim.setFaults({ itemError: 1 });
  failedBatch = (await p.producer.enqueueBatch([task('fails for the viewer'), task('fails as well')]))
    .batchId;
  await waitForBatch(p, failedBatch, 30_000);
  p.sim.setFaults({ itemError: 0 });
});

afterAll(async () => {
  await browser?.close();
  await p?.close();
});

async function open(ctx: BrowserContext, path: string): Promise<Page> {
  const page = await ctx.newPage();
  page.on('dialog', (d) => void d.accept());
  const res = await page.goto(`${base}${path}`);
  expect(res?.status(), `GET /${path}`).toBe(200);
  return page;
}

describe('a viewer in the browser', () => {
  it('sees the batch page, but Retry failed and Cancel batch are refused and change nothing', async () => {
    const page = await open(viewer, `batches/${failedBatch}`);
    expect(await page.locator('.card .error').count()).toBe(2);
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(REFUSAL);
    expect(await p.svc.batches.get(failedBatch)).toMatchObject({ failed: 2, cancelled: 0 });
    await page.close();

    // A batch still queued (the queue is paused), so its Cancel button is live.
    await p.svc.queue.pause();
    const queued = (await p.producer.enqueueBatch([task('waits in the queue')])).batchId;
    const other = await open(viewer, `batches/${queued}`);
    await other.getByRole('button', { name: 'Cancel batch' }).click();
    await expect
      .poll(() => other.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(REFUSAL);
    expect(await p.svc.batches.get(queued)).toMatchObject({ cancelled: 0, cancelRequested: false });
    await other.getByRole('button', { name: 'Resume queue' }).click();
    await expect
      .poll(() => other.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(REFUSAL);
    expect(await p.svc.queue.isPaused()).toBe(true);
    expect(await readAuditTrail(p.svc)).toHaveLength(0);
    await other.close();
    await p.svc.queue.resume();
    await waitForBatch(p, queued, 30_000);
  });

  it('sees bull-board read-only: its page loads and its write API answers 403 in the page', async () => {
    const page = await open(viewer, 'admin/queues/');
    const status = await page.evaluate(
      `fetch('api/queues/${p.config.QUEUE_NAME}/retry/failed', { method: 'PUT' }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
    const readOnly = await page.evaluate(
      "fetch('api/queues').then((r) => r.json()).then((j) => j.queues.map((q) => q.readOnlyMode))",
    );
    expect(readOnly).toEqual([true]);
    await page.close();
  });

  it('sees on the audit page what the operator did, with the operator’s token id', async () => {
    const op = await open(operator, `batches/${failedBatch}`);
    await op.getByRole('button', { name: 'Retry failed' }).click();
    await expect
      .poll(() => op.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/^Retried 2 failed task/);
    await op.close();
    const page = await open(viewer, 'audit');
    const rows = page.locator('table.audit tbody tr[data-audit-id]');
    expect(await rows.count()).toBe(1);
    const text = (await rows.first().textContent()) ?? '';
    expect(text).toContain(tokenId(OPERATOR));
    expect(text).toContain('retry-failed');
    expect(text).toContain(failedBatch);
    await page.close();
  });
});
