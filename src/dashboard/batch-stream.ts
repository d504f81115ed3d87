// Live batch progress as server-sent events: while a client is connected, the batch view and the queue
// summary are read from Redis every STREAM_INTERVAL_MS and sent when they changed. Polling keeps it
// simple and exact: whatever Redis says is what the page shows, with no event to miss.
import type { Router } from 'express';
import { chartTicker, startEventStream } from './charts/chart-stream.js';
import { batchChartData } from './charts/read-chart-samples.js';
import type { DashboardContext } from './dashboard-context.js';
import { readBatchView, readQueueSummary } from './read-batch-view.js';

export const STREAM_INTERVAL_MS = 1_000;
/** A comment line this often keeps proxies from closing an idle stream. */
export const STREAM_HEARTBEAT_MS = 15_000;

export function mountBatchStream(router: Router, ctx: DashboardContext): void {
  router.get('/api/batches/:batchId/stream', async (req, res) => {
    const batchId = String(req.params.batchId);
    if (!(await ctx.batches.get(batchId))) {
      res.status(404).json({ ok: false, code: 'NOT_FOUND', message: `batch ${batchId} not found` });
      return;
    }
    startEventStream(res);
    let last = '';
    let lastWrite = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let open = true;
    const charts = chartTicker(() => batchChartData(ctx, batchId));
    req.on('close', () => {
      open = false;
      clearTimeout(timer);
    });
    const tick = async () => {
      try {
        const [batch, queue] = await Promise.all([readBatchView(ctx, batchId), readQueueSummary(ctx)]);
        const json = JSON.stringify({ batch, queue });
        if (!open) return;
        if (json !== last) {
          res.write(`event: status\ndata: ${json}\n\n`);
          last = json;
          lastWrite = Date.now();
        } else if (Date.now() - lastWrite >= STREAM_HEARTBEAT_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        const frame = await charts();
        if (frame && open) res.write(frame);
      } catch (err) {
        ctx.logger.warn({ err, batchId }, 'dashboard stream: read failed; retrying');
      }
      if (open) timer = setTimeout(tick, STREAM_INTERVAL_MS);
    };
    await tick();
  });
}
