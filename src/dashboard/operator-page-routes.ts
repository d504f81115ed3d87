// The operator's pages (issue 15): one task (/tasks/:taskUUID), the outgoing delivery log
// (/deliveries), the overview charts (/overview), and their JSON twins for scripts.
import type { Router } from 'express';
import { batchChartData, overviewChartData } from './charts/read-chart-samples.js';
import { renderCharts } from './charts/render-charts.js';
import type { DashboardContext } from './dashboard-context.js';
import { securityHeaders } from './page-routes.js';
import { readQueueSummary } from './read-batch-view.js';
import { readDeliveries } from './read-deliveries.js';
import { readTaskView } from './read-task-view.js';
import { renderDeliveriesPage } from './render-deliveries-page.js';
import { renderLayout } from './render-layout.js';
import { renderTaskPage } from './render-task-page.js';
import { html } from './safe-html.js';

export interface OperatorPageOptions {
  basePath: string;
  imageOrigins: readonly string[];
  /** TRACE_URL_TEMPLATE: the task page links to the task's trace. */
  traceUrlTemplate?: string | undefined;
}

export function mountOperatorPages(router: Router, ctx: DashboardContext, opts: OperatorPageOptions): void {
  const headers = securityHeaders(opts.imageOrigins);
  const page = (title: string, body: ReturnType<typeof html>, data: Record<string, string>) =>
    readQueueSummary(ctx).then((queue) =>
      renderLayout({ title, basePath: opts.basePath, queue, body, data }),
    );

  router.get('/tasks/:taskUUID', async (req, res) => {
    const taskUUID = String(req.params.taskUUID);
    const view = await readTaskView(ctx, taskUUID);
    res.set(headers).type('html');
    if (!view) {
      const body = html`<h1>Not found</h1><p>No task <code>${taskUUID}</code>. <a href="./">All batches</a></p>`;
      res.status(404).send(await page('Not found', body, { page: 'missing' }));
      return;
    }
    res.send(
      await page(`Task ${taskUUID}`, renderTaskPage(view, opts.traceUrlTemplate), {
        page: 'task',
        task: taskUUID,
      }),
    );
  });

  router.get('/deliveries', async (_req, res) => {
    const body = renderDeliveriesPage(await readDeliveries(ctx));
    res
      .set(headers)
      .type('html')
      .send(await page('Event deliveries', body, { page: 'deliveries' }));
  });

  router.get('/overview', async (_req, res) => {
    const data = await overviewChartData(ctx);
    const body = html`<h1>Overview</h1><p class="muted">The most recent batches together, live.</p>${renderCharts(data, 'recent batches')}`;
    res
      .set(headers)
      .type('html')
      .send(await page('Overview', body, { page: 'overview' }));
  });

  router.get('/api/deliveries', async (_req, res) => {
    res.json({ endpoints: await readDeliveries(ctx) });
  });

  router.get('/api/charts/overview', async (_req, res) => {
    res.json(await overviewChartData(ctx));
  });

  router.get('/api/batches/:batchId/charts', async (req, res) => {
    const data = await batchChartData(ctx, String(req.params.batchId));
    if (!data) {
      res.status(404).json({ ok: false, code: 'NOT_FOUND', message: 'batch not found' });
      return;
    }
    res.json(data);
  });
}
