// The operator's pages in a real headless Chromium against a real pipeline (issue 15): the task page,
// the charts after a real batch (and live while one runs), the delivery log after a receiver outage with
// re-enable and replay, bull-board's link back — and not one request leaves the server.
// DOCS_SCREENSHOTS=docs saves the README's screenshots from these very pages.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardPipeline, launchBrowser, startDashboardPipeline } from '../helpers/browser.js';
import { testSecret } from '../helpers/env.js';
import { waitForBatch } from '../helpers/pipeline.js';
import { startVerifyingReceiver, type VerifyingReceiver } from '../helpers/webhook-receiver.js';

const TOKEN = testSecret();
const SECRET = `whsec_${Buffer.from('operator pages secret, thirty-2B').toString('base64')}`;
const UI_TIMEOUT_MS = 20_000;
const SEED = '9007199254740993'; // past 2^53: must show exactly
const REF_URL = 'https://example.com/reference.png';

let p: DashboardPipeline;
let browser: Browser;
let context: BrowserContext;
let receiver: VerifyingReceiver;
let batchId: string;
let failedBatch: string;
let refDataUri: string;
/** Every URL the browser asked for, across all pages of this file. */
const requested: string[] = [];

const task = (prompt: string, extra: Record<string, unknown> = {}) => ({
  positivePrompt: prompt,
  width: 1024,
  height: 1024,
  includeCost: true,
  ...extra,
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  receiver = await startVerifyingReceiver(SECRET);
  const png = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } },
  })
    .png()
    .toBuffer();
  refDataUri = `data:image/png;base64,${png.toString('base64')}`;
  [p, browser] = await Promise.all([
    startDashboardPipeline({
      sim: { latency: { minMs: 300, maxMs: 700 } },
      dashboard: { token: TOKEN },
      env: {
        EVENTS_WEBHOOK_URL: receiver.url,
        EVENTS_WEBHOOK_SECRET: SECRET,
        EVENTS_ENDPOINT_DISABLE_AFTER: '3',
      },
    }),
    launchBrowser(),
  ]);
  context = await browser.newContext({
    httpCredentials: { username: 'operator', password: TOKEN },
    viewport: { width: 1280, height: 900 },
  });
  context.on('request', (r) => requested.push(r.url()));
  // A real batch, with the event receiver going down part-way through.
  const batch = await p.producer.enqueueBatch(
    [
      task('a lighthouse on a cliff at dusk', {
        numberResults: 2,
        seed: SEED,
        inputs: { referenceImages: [refDataUri, REF_URL] },
      }),
      task('a teapot shaped like a snail'),
      task('a red fox in the snow', { numberResults: 3 }),
      task('a tram in the rain'),
      task('a paper boat on a pond'),
      task('a bonsai on a windowsill'),
    ],
    { budgetUsd: 1 },
  );
  batchId = batch.batchId;
  await until('a first event delivered', () => receiver.kept.size >= 1);
  await receiver.down();
  await waitForBatch(p, batchId, 60_000);
  p.sim.setFaults({ itemError: 1 });
  const failed = await p.producer.enqueueBatch([task('this one fails')]);
  failedBatch = failed.batchId;
  await waitForBatch(p, failedBatch, 60_000);
  p.sim.setFaults({ itemError: 0 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await p?.close();
  await receiver?.down().catch(() => undefined);
});

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  const res = await page.goto(`${p.dashboardUrl}${path}`);
  expect(res?.status(), path).toBe(200);
  return page;
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  const dir = process.env.DOCS_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage, type: 'png' });
}

async function firstTask(batch: string, prompt: string): Promise<string> {
  const ids = await p.svc.batches.taskUUIDs(batch, 0, 100);
  for (const id of ids) {
    const job = await p.svc.queue.getJob(id);
    if (job?.data.task.positivePrompt === prompt) return id;
  }
  throw new Error(`no task with prompt ${prompt}`);
}

describe('operator pages in a browser', () => {
  it('the task page shows every parameter, each slot with its full image, sha256, S3 key, and the timeline', async () => {
    const uuid = await firstTask(batchId, 'a lighthouse on a cliff at dusk');
    const outputs = await p.svc.tasks.storedOutputs(uuid);
    expect(outputs).toHaveLength(2);
    const page = await open(`tasks/${uuid}`);
    await expect.poll(() => page.locator('.slot').count()).toBe(2);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('a lighthouse on a cliff at dusk');
    expect(text).toContain(SEED);
    for (const o of outputs) {
      expect(text).toContain(o.sha256);
      expect(text).toContain(o.key);
    }
    expect(await page.locator('.slot[data-outcome="stored"]').count()).toBe(2);
    expect(text).toMatch(/submitted to the provider/);
    expect(text).toMatch(/result for slot 1 by (webhook|poll)/);
    expect(text).toMatch(/slot 2 stored in S3/);
    expect(text).toMatch(/ended: completed/);
    const loaded =
      "[...document.querySelectorAll('.slot img.full')].every((i) => i.complete && i.naturalWidth > 0)";
    await expect.poll(() => page.evaluate(loaded), { timeout: UI_TIMEOUT_MS }).toBe(true);
    // The inline reference is shown; the URL one is listed as text, never loaded (see the last test).
    expect(await page.locator('img.ref').count()).toBe(1);
    expect(await page.locator('.refs code', { hasText: REF_URL }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Cancel task' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Retry task' }).isDisabled()).toBe(true);
    await screenshot(page, 'task-page', true);
    await page.close();
  });

  it('a failed task shows its provider error and is retried from its page', async () => {
    const [uuid] = await p.svc.batches.taskUUIDs(failedBatch, 0, 1);
    const page = await open(`tasks/${uuid}`);
    await expect.poll(() => page.locator('[data-provider-error], .error').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Retry task' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/retried/i);
    await waitForBatch(p, failedBatch, 60_000);
    expect((await p.svc.tasks.get(uuid!))?.state).toBe('completed');
    await page.close();
  });

  it('the batch page draws every chart from the batch’s recorded data', async () => {
    const page = await open(`batches/${batchId}`);
    await expect
      .poll(() => page.locator('[data-charts][data-drawn]').count(), { timeout: UI_TIMEOUT_MS })
      .toBe(1);
    expect(await page.locator('[data-chart] canvas').count()).toBe(5);
    expect(await page.locator('[data-chart="throughput"] [data-total="completed"]').textContent()).toBe('6');
    expect(await page.locator('[data-chart="latency"] [data-total="results"]').textContent()).toBe('9');
    const webhook = Number(await page.locator('[data-total="webhook"]').first().textContent());
    const poll = Number(await page.locator('[data-total="poll"]').first().textContent());
    expect(webhook + poll).toBe(9);
    expect(await page.locator('[data-chart="spend"] figcaption').textContent()).toMatch(
      /\$0\.3600 of a \$1\.0000 budget/,
    );
    await page.locator('[data-charts]').scrollIntoViewIfNeeded();
    await screenshot(page, 'batch-charts');
    await page.close();
  });

  it('charts follow a running batch live over the batch stream', async () => {
    const running = await p.producer.enqueueBatch(
      Array.from({ length: 4 }, (_, i) => task(`live chart ${i}`, { numberResults: 2 })),
    );
    const page = await open(`batches/${running.batchId}`);
    const done = page.locator('[data-chart="throughput"] [data-total="completed"]');
    await expect.poll(() => done.textContent(), { timeout: 60_000 }).toBe('4');
    await page.close();
  });

  it('the overview charts recent batches', async () => {
    const page = await open('overview');
    await expect
      .poll(() => page.locator('[data-charts][data-drawn]').count(), { timeout: UI_TIMEOUT_MS })
      .toBe(1);
    expect(Number(await page.locator('[data-total="completed"]').textContent())).toBeGreaterThanOrEqual(7);
    const arrivals =
      Number(await page.locator('[data-total="webhook"]').textContent()) +
      Number(await page.locator('[data-total="poll"]').textContent());
    expect(arrivals).toBeGreaterThanOrEqual(9); // the per-minute rollup counts every arrival
    await screenshot(page, 'overview-charts');
    await page.close();
  });

  it('the delivery log shows the outage: attempts with codes and latency, dead letters, the disabled endpoint; re-enable and replay catch up', async () => {
    await until('endpoint disabled', async () =>
      (await p.svc.redis.xrange(p.svc.tasks.keys.events(), '-', '+')).some((e) =>
        e[1].includes('endpoint.disabled'),
      ),
    );
    let page = await open('deliveries');
    const section = page.locator(`[data-endpoint="${receiver.url}"]`);
    await expect
      .poll(() => section.locator('[data-endpoint-state]').getAttribute('data-endpoint-state'))
      .toBe('disabled');
    expect(
      await section.locator('.attempts td[data-col="status"]', { hasText: '200' }).count(),
    ).toBeGreaterThan(0);
    expect(await section.locator('.attempts tr.bad').count()).toBeGreaterThan(0);
    expect(Number(await section.locator('[data-field="dead"]').textContent())).toBeGreaterThan(0);
    await screenshot(page, 'deliveries');

    await receiver.up();
    // Wait for the action's answer before leaving the page: closing it could cancel the request.
    await Promise.all([
      page.waitForResponse(
        (r) => r.url().includes('/api/endpoints/enable') && r.request().method() === 'POST',
      ),
      section.getByRole('button', { name: 'Re-enable' }).click(),
    ]);
    await page.close();
    page = await open('deliveries');
    const again = page.locator(`[data-endpoint="${receiver.url}"]`);
    await expect
      .poll(() => again.locator('[data-endpoint-state]').getAttribute('data-endpoint-state'))
      .toBe('enabled');
    await again.locator('[data-replay-from]').fill('0-1');
    await again.getByRole('button', { name: 'Replay' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/scheduled again/);
    const events = await p.svc.redis.xrange(p.svc.tasks.keys.events(), '-', '+');
    await until('every event at the receiver', () => receiver.kept.size >= events.length);
    expect(receiver.invalid).toBe(0);
    await page.close();
  });

  it('bull-board links back to the results pages', async () => {
    const page = await open('admin/queues/');
    // bull-board puts its misc links in a menu at the end of the header's actions.
    const menu = page.locator('ul[class^="actions"] > li').last().locator('button');
    await expect.poll(() => menu.count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    await menu.click();
    const back = page.getByText('← Results (batches)');
    await expect.poll(() => back.count(), { timeout: UI_TIMEOUT_MS }).toBeGreaterThan(0);
    expect(await back.first().locator('xpath=ancestor-or-self::a').getAttribute('href')).toBe('/');
    await screenshot(page, 'bull-board-link');
    await page.close();
  });

  it('no page made a request outside the server', () => {
    const origin = new URL(p.dashboardUrl).origin;
    expect(requested.length).toBeGreaterThan(10);
    const outside = requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
    expect(outside).toEqual([]);
  });
});
