// Mounts the dashboard on the service's express app: bull-board at <base>admin/queues, the results
// pages, JSON API, live stream and media routes. Only the dashboard's own paths are behind its auth;
// a token is required whenever the server listens beyond loopback.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type Express, Router } from 'express';
import { ConfigError } from '../errors.js';
import { mountApiRoutes } from './api-routes.js';
import { mountBatchStream } from './batch-stream.js';
import { bullBoardUiConfig, offlineViewsDir } from './bull-board-offline.js';
import { mountChartAssets } from './charts/chart-assets.js';
import { mountOverviewStream } from './charts/chart-stream.js';
import { mountAssets } from './dashboard-assets.js';
import { createDashboardAuth, rejectCrossSiteWrites, requireActionHeader } from './dashboard-auth.js';
import type { DashboardContext } from './dashboard-context.js';
import { isLoopbackAddress } from './loopback-host.js';
import { mountMediaRoutes } from './media-routes.js';
import { mountOperatorActionRoutes } from './operator-action-routes.js';
import { mountOperatorPages } from './operator-page-routes.js';
import { mountPageRoutes } from './page-routes.js';
import { ThumbnailCache } from './thumbnail-cache.js';

export interface DashboardOptions {
  /** Defaults to config.DASHBOARD_TOKEN. Required when config.HOST is not a loopback address. */
  token?: string | undefined;
  /** Where the dashboard lives, e.g. '/' (default) or '/dashboard/'. */
  basePath?: string;
  /** true (default): images stream through this server; false: 302 to a presigned S3 URL. */
  imageProxy?: boolean;
}

export const TOKEN_MIN_CHARS = 8;
const BULL_BOARD_PATH = 'admin/queues';
const SAFE_BASE_PATH = /^\/([A-Za-z0-9._~-]+\/)*$/;

export function mountDashboard(app: Express, ctx: DashboardContext, opts: DashboardOptions = {}): void {
  const basePath = normaliseBasePath(opts.basePath ?? '/');
  const token = opts.token ?? ctx.config.DASHBOARD_TOKEN;
  if (token === undefined && !isLoopbackAddress(ctx.config.HOST)) {
    throw new ConfigError(
      `DASHBOARD_TOKEN must be set: the server listens on ${ctx.config.HOST}, beyond loopback, and the dashboard can cancel batches`,
    );
  }
  if (token !== undefined && token.length < TOKEN_MIN_CHARS) {
    throw new ConfigError(`DASHBOARD_TOKEN must be at least ${TOKEN_MIN_CHARS} characters`);
  }
  const imageProxy = opts.imageProxy ?? true;

  const pages = Router();
  mountAssets(pages);
  mountPageRoutes(pages, ctx, {
    basePath,
    imageOrigins: imageProxy ? [] : s3Origins(ctx.config.S3_ENDPOINT),
  });
  mountMediaRoutes(pages, ctx, { imageProxy, thumbnails: new ThumbnailCache() });
  mountChartAssets(pages);
  mountOperatorPages(pages, ctx, {
    basePath,
    imageOrigins: imageProxy ? [] : s3Origins(ctx.config.S3_ENDPOINT),
  });
  const api = Router();
  api.use(requireActionHeader);
  mountBatchStream(api, ctx);
  mountApiRoutes(api, ctx);
  mountOperatorActionRoutes(api, ctx);
  mountOverviewStream(api, ctx);

  const board = new ExpressAdapter();
  board.setBasePath(`${basePath}${BULL_BOARD_PATH}`);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.queue)],
    serverAdapter: board,
    options: { uiConfig: bullBoardUiConfig(basePath) },
  });
  board.setViewsPath(offlineViewsDir()); // bull-board's page without its web font from the internet

  const dashboard = Router();
  // Only the dashboard's own paths go through its auth; anything else mounted on the app is left alone.
  dashboard.use((req, _res, next) => next(isDashboardPath(req.path) ? undefined : 'router'));
  dashboard.use(createDashboardAuth({ token, cookiePath: basePath }));
  dashboard.use(`/${BULL_BOARD_PATH}`, rejectCrossSiteWrites, board.getRouter());
  dashboard.use(api);
  dashboard.use(pages);
  app.use(basePath, dashboard);
  ctx.logger.info({ basePath, auth: token ? 'token' : 'loopback only', imageProxy }, 'dashboard mounted');
}

function isDashboardPath(path: string): boolean {
  return /^\/(?:$|batches\/|tasks\/|deliveries$|overview$|api\/|media\/|assets\/|admin\/queues(?:\/|$))/.test(
    path,
  );
}

function normaliseBasePath(path: string): string {
  const p = `/${path.replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
  if (!SAFE_BASE_PATH.test(p)) throw new ConfigError(`dashboard basePath "${path}" must be a plain URL path`);
  return p;
}

function s3Origins(endpoint: string | undefined): string[] {
  // Without an endpoint the SDK talks to AWS, whose bucket hosts vary by region and style.
  return endpoint ? [new URL(endpoint).origin] : ['https://*.amazonaws.com'];
}
