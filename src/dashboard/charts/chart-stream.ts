// Live chart updates over server-sent events: chart data is recomputed at most every CHART_REFRESH_MS
// (it reads every sampled task) and sent only when it changed. The batch page's existing stream carries
// it as `event: charts`; the overview has a stream of its own.
import type { Response, Router } from 'express';
import type { DashboardContext } from '../dashboard-context.js';
import type { ChartData } from './chart-data.js';
import { overviewChartData } from './read-chart-samples.js';

export const CHART_REFRESH_MS = 3_000;
/** Tells EventSource how soon to reconnect after the connection drops. */
const CLIENT_RETRY_MS = 2_000;

/** Returns the next `event: charts` frame when one is due and changed, else null. */
export function chartTicker(read: () => Promise<ChartData | null>): () => Promise<string | null> {
  let last = '';
  let lastAt = 0;
  return async () => {
    if (Date.now() - lastAt < CHART_REFRESH_MS) return null;
    lastAt = Date.now();
    const d = await read();
    const json = d ? JSON.stringify(d) : '';
    if (!json || json === last) return null;
    last = json;
    return `event: charts\ndata: ${json}\n\n`;
  };
}

/** Open a server-sent-events response: headers that keep proxies from buffering, the client's retry. */
export function startEventStream(res: Response): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${CLIENT_RETRY_MS}\n\n`);
}

export function mountOverviewStream(router: Router, ctx: DashboardContext): void {
  router.get('/api/overview/stream', (req, res) => {
    startEventStream(res);
    const next = chartTicker(() => overviewChartData(ctx));
    let open = true;
    let timer: NodeJS.Timeout | undefined;
    req.on('close', () => {
      open = false;
      clearTimeout(timer);
    });
    const tick = async () => {
      try {
        const frame = await next();
        if (open) res.write(frame ?? ': keep-alive\n\n');
      } catch (err) {
        ctx.logger.warn({ err }, 'overview stream: read failed; retrying');
      }
      if (open) timer = setTimeout(tick, CHART_REFRESH_MS);
    };
    void tick();
  });
}
