// The dashboard in a real headless Chromium against a real pipeline: thumbnails of a finished batch,
// live progress without reload, retry of failed tasks, cancel, the paused-queue banner, auth, and
// that user text renders as text. One pipeline and one browser for the file, to keep it fast.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardPipeline, launchBrowser, startDashboardPipeline } from '../helpers/browser.js';
import { testSecret } from '../helpers/env.js';
import { waitForBatch } from '../helpers/pipeline.js';

const TOKEN = testSecret();
/** Each result item takes this long at the simulator, so progress arrives over a few stream ticks. */
const LATENCY = { minMs: 600, maxMs: 1200 };
const UI_TIMEOUT_MS = 15_000;
const XSS_PROMPT = `<img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script> "quoted"`;

let p: DashboardPipeline;
let browser: Browser;
let context: BrowserContext;
let finishedBatch: string;

const task = (prompt: string, extra: Record<string, unknown> = {}) => ({
  positivePrompt: prompt,
  width: 1024,
  height: 1024,
  ...extra,
});

beforeAll(async () => {
  [p, browser] = await Promise.all([
    startDashboardPipeline({ sim: { latency: LATENCY }, dashboard: { token: TOKEN } }),
    launchBrowser(),
  ]);
  context = await browser.newContext({
    httpCredentials: { username: 'operator', password: TOKEN },
    viewport: { width: 1280, height: 1000 },
  });
  const batch = await p.producer.enqueueBatch([
    task('a lighthouse on a cliff at dusk', { numberResults: 2 }),
    task('a teapot shaped like a snail', { seed: 7 }),
    task(XSS_PROMPT),
  ]);
  finishedBatch = batch.batchId;
  await waitForBatch(p, finishedBatch, 30_000);
});

afterAll(async () => {
  await browser?.close();
  await p?.close();
});

async function openBatch(batchId: string): Promise<Page> {
  const page = await context.newPage();
  const res = await page.goto(`${p.dashboardUrl}batches/${batchId}`);
  expect(res?.status()).toBe(200);
  return page;
}

/** DASHBOARD_SCREENSHOTS=/some/dir saves full-page screenshots there, to look at the pages by eye. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.DASHBOARD_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/dashboard-${name}.png`, fullPage: true });
}

const counter = (page: Page, field: string) => page.locator(`.counters [data-field="${field}"]`);

describe('dashboard in a browser', () => {
  it('the gallery of a finished batch shows real WEBP thumbnails of every output', async () => {
    const thumbTypes: string[] = [];
    const page = await context.newPage();
    page.on('response', (r) => {
      if (r.url().includes('thumb=1')) thumbTypes.push(r.headers()['content-type'] ?? '');
    });
    await page.goto(`${p.dashboardUrl}batches/${finishedBatch}`);
    const images = page.locator('#gallery img');
    await expect.poll(() => images.count(), { timeout: UI_TIMEOUT_MS }).toBe(4);
    // Page functions are strings: the test project's TypeScript has no DOM library. Polled with
    // page.evaluate, not waitForFunction: the latter evals its string inside the page, which the
    // dashboard's strict content-security policy (rightly) refuses.
    const allLoaded =
      "[...document.querySelectorAll('#gallery img')].every((i) => i.complete && i.naturalWidth > 0)";
    await expect.poll(() => page.evaluate(allLoaded), { timeout: UI_TIMEOUT_MS }).toBe(true);
    const widths = (await page.evaluate(
      "[...document.querySelectorAll('#gallery img')].map((i) => i.naturalWidth)",
    )) as number[];
    expect(widths.every((w) => w > 0 && w <= 256)).toBe(true);
    expect(thumbTypes).toHaveLength(4);
    expect(new Set(thumbTypes)).toEqual(new Set(['image/webp']));
    await expect.poll(() => counter(page, 'completed').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('3');
    expect(await page.locator('.card .badge-completed').count()).toBe(3);
    await screenshot(page, 'gallery');
    await page.close();
  });

  it('a prompt with HTML renders as text and runs nothing', async () => {
    const page = await openBatch(finishedBatch);
    const prompts = await page.locator('.card .prompt').allTextContents();
    expect(prompts).toContain(XSS_PROMPT);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('#gallery img[src="x"], #gallery script').count()).toBe(0);
    await page.close();
  });

  it('progress arrives live: the done counter goes from 0 to N without a reload', async () => {
    // Paused until the page is open, so it surely starts at 0 however slow the machine is.
    await p.svc.queue.pause();
    const batch = await p.producer.enqueueBatch([task('live one'), task('live two'), task('live three')]);
    const page = await openBatch(batch.batchId);
    expect(await counter(page, 'completed').textContent()).toBe('0');
    await page.evaluate('window.__sameDocument = true');
    await p.svc.queue.resume();
    await expect.poll(() => counter(page, 'completed').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('3');
    await expect.poll(() => page.locator('#gallery img').count(), { timeout: UI_TIMEOUT_MS }).toBe(3);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await page.close();
  });

  it('"Retry failed" runs failed tasks again until they complete', async () => {
    p.sim.setFaults({ itemError: 1 });
    const batch = await p.producer.enqueueBatch([task('fails first, then works'), task('so does this one')]);
    const ended = await waitForBatch(p, batch.batchId, 30_000);
    expect(ended).toMatchObject({ failed: 2, completed: 0 });
    p.sim.setFaults({ itemError: 0 });
    const page = await openBatch(batch.batchId);
    expect(await page.locator('.card .error').count()).toBe(2);
    await screenshot(page, 'failed');
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/^Retried 2 failed task/);
    await expect.poll(() => counter(page, 'completed').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('2');
    expect(await counter(page, 'failed').textContent()).toBe('0');
    await expect.poll(() => page.locator('#gallery img').count(), { timeout: UI_TIMEOUT_MS }).toBe(2);
    await page.close();
  });

  it('"Cancel batch" warns that in-flight tasks are still billed and removes the queued ones', async () => {
    await p.svc.queue.pause();
    const batch = await p.producer.enqueueBatch([task('never runs'), task('nor this')]);
    const page = await openBatch(batch.batchId);
    let warning = '';
    page.once('dialog', (d) => {
      warning = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/2 queued task\(s\) removed/);
    expect(warning).toMatch(/provider still bills them/);
    await expect.poll(() => counter(page, 'cancelled').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('2');
    await screenshot(page, 'cancelled');
    await page.close();
  });

  it('a paused queue shows why, and "Resume queue" resumes it', async () => {
    if (!(await p.svc.queue.isPaused())) await p.svc.queue.pause();
    await p.svc.tasks.setQueuePausedReason('invalidApiKey: the provider refused our API key');
    const page = await context.newPage();
    await page.goto(p.dashboardUrl);
    await expect
      .poll(() => page.locator('[data-queue="pausedReason"]').textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/invalidApiKey/);
    await screenshot(page, 'batches-paused');
    await page.getByRole('button', { name: 'Resume queue' }).click();
    await expect
      .poll(() => page.locator('[data-queue-paused]').isHidden(), { timeout: UI_TIMEOUT_MS })
      .toBe(true);
    expect(await p.svc.queue.isPaused()).toBe(false);
    expect(await p.svc.tasks.queuePausedReason()).toBeNull();
    await page.close();
  });

  it('without the token the browser gets 401; a ?token= link lets it in', async () => {
    const anonymous = await browser.newContext();
    try {
      const page = await anonymous.newPage();
      const statuses: number[] = [];
      page.on('response', (r) => statuses.push(r.status()));
      // Headless Chromium cancels the basic-auth prompt, so the navigation itself fails after the 401.
      await expect(page.goto(p.dashboardUrl)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(statuses).toEqual([401]);
      await page.close();
      const linked = await anonymous.newPage();
      const res = await linked.goto(`${p.dashboardUrl}batches/${finishedBatch}?token=${TOKEN}`);
      expect(res?.status()).toBe(200);
      expect(new URL(linked.url()).search).toBe('');
      expect((await linked.goto(`${p.dashboardUrl}admin/queues/`))?.status()).toBe(200);
      await screenshot(linked, 'bull-board');
    } finally {
      await anonymous.close();
    }
  });
});
