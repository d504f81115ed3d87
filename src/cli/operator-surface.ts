// What the CLI's HTTP server shows operators besides webhooks: the dashboard (and bull-board).
import type { Express } from 'express';
import { mountDashboard } from '../dashboard/mount-dashboard.js';
import type { ServiceContext } from '../service/start-service.js';

export function mountOperatorSurface(app: Express, ctx: ServiceContext): void {
  mountDashboard(app, ctx, {});
}
