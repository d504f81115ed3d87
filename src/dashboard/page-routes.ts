// The server-rendered pages: the batch list, a batch's page, and its gallery as an HTML fragment the
// script swaps in on filter, paging and live updates (one renderer for first load and refresh).
import type { Response, Router } from 'express';
import { batchChartData } from './charts/read-chart-samples.js';
import { renderCharts } from './charts/render-charts.js';
import type { DashboardContext } from './dashboard-context.js';
import { findBatchTasks } from './find-batch-tasks.js';
import { listBatches, readBatchView, readQueueSummary } from './read-batch-view.js';
import { renderBatchList } from './render-batch-list.js';
import { renderBatchPage } from './render-batch-page.js';
import { renderLayout } from './render-layout.js';
import { renderGallery } from './render-task-cards.js';
import { readTenantOverview, renderTenantTable } from './render-tenant-table.js';
import { html } from './safe-html.js';
import { parseListQuery, parseTaskQuery } from './task-query.js';

export interface PageOptions {
  basePath: string;
  /** Extra origins images may load from (the S3 endpoint, when images are redirected to it). */
  imageOrigins: readonly string[];
}

export function mountPageRoutes(router: Router, ctx: DashboardContext, opts: PageOptions): void {
  const headers = securityHeaders(opts.imageOrigins);

  router.get('/', async (req, res) => {
    const q = parseListQuery(req.query);
    if (!q.ok) return badRequest(res, q.message);
    const [batches, queue, tenants] = await Promise.all([
      listBatches(ctx, q.value.offset, q.value.limit),
      readQueueSummary(ctx),
      readTenantOverview(ctx),
    ]);
    const next = batches.length === q.value.limit ? q.value.offset + q.value.limit : null;
    const body = html`${renderBatchList(batches, { ...q.value, next })}${renderTenantTable(tenants, ctx.config.MAX_IN_FLIGHT)}`;
    res
      .set(headers)
      .type('html')
      .send(
        renderLayout({ title: 'Batches', basePath: opts.basePath, queue, body, data: { page: 'batches' } }),
      );
  });

  router.get('/batches/:batchId', async (req, res) => {
    const batchId = String(req.params.batchId);
    const q = parseTaskQuery(req.query);
    if (!q.ok) return badRequest(res, q.message);
    const [batch, queue] = await Promise.all([readBatchView(ctx, batchId), readQueueSummary(ctx)]);
    if (!batch) {
      const body = html`<h1>Not found</h1><p>No batch <code>${batchId}</code>. <a href="./">All batches</a></p>`;
      res.status(404).set(headers).type('html');
      res.send(
        renderLayout({ title: 'Not found', basePath: opts.basePath, queue, body, data: { page: 'missing' } }),
      );
      return;
    }
    const [page, charts] = await Promise.all([
      findBatchTasks(ctx, batchId, q.value),
      batchChartData(ctx, batchId),
    ]);
    const body = renderBatchPage(
      batch,
      q.value,
      page,
      charts ? renderCharts(charts, `batch ${batchId}`) : undefined,
    );
    res.set(headers).type('html');
    res.send(
      renderLayout({
        title: `Batch ${batchId}`,
        basePath: opts.basePath,
        queue,
        body,
        data: { page: 'batch', batch: batchId },
      }),
    );
  });

  router.get('/batches/:batchId/gallery', async (req, res) => {
    const batchId = String(req.params.batchId);
    const q = parseTaskQuery(req.query);
    if (!q.ok) return badRequest(res, q.message);
    if (!(await ctx.batches.get(batchId))) {
      res.status(404).type('text/plain').send('no such batch');
      return;
    }
    const page = await findBatchTasks(ctx, batchId, q.value);
    res.set(headers).set('cache-control', 'no-store').type('html').send(renderGallery(page, q.value).value);
  });
}

/** A strict policy: scripts only from this server, so even a missed escape could not run code. */
export function securityHeaders(imageOrigins: readonly string[]): Record<string, string> {
  const img = ["'self'", 'data:', ...imageOrigins].join(' ');
  return {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      // Progress bars set their width inline.
      "style-src 'self' 'unsafe-inline'",
      `img-src ${img}`,
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

function badRequest(res: Response, message: string): void {
  res.status(400).type('text/plain').send(message);
}
