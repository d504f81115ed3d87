// What the CLI's HTTP server shows operators besides webhooks: the dashboard (and bull-board), and
// the server-sent event stream at /events behind the same credentials (viewer tokens may read it).
import type { Express } from 'express';
import { loadTracingConfig } from '../config/tracing-config.js';
import { createDashboardAuth } from '../dashboard/dashboard-auth.js';
import { mountDashboard } from '../dashboard/mount-dashboard.js';
import { mountEvents } from '../events/mount-events.js';
import type { ServiceContext } from '../service/start-service.js';

export function mountOperatorSurface(app: Express, ctx: ServiceContext): void {
  mountDashboard(app, ctx, { traceUrlTemplate: loadTracingConfig().traceUrlTemplate });
  app.use(
    '/events',
    createDashboardAuth({
      token: ctx.config.DASHBOARD_TOKEN,
      viewerTokens: ctx.config.DASHBOARD_VIEWER_TOKEN,
      cookiePath: '/',
    }),
  );
  mountEvents(app, ctx);
}
