// Mounts the dashboard on the service's express app: bull-board at <base>admin/queues, the results
// pages, JSON API, live stream and media routes. Only the dashboard's own paths are behind its auth;
// a token is required whenever the server listens beyond loopback. Viewer tokens read everything and act
// on nothing: every non-GET request of theirs gets 403, and their bull-board is built read-only.

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type Express, Router } from 'express';
import { secretProblem } from '../config/secret-policy.js';
import { ConfigError } from '../errors.js';
import { errorToHttp } from '../http/error-to-http.js';
import { mountApiRoutes } from './api-routes.js';
import { mountAuditRoutes } from './audit-routes.js';
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
import { accessOf, viewersReadOnly } from './require-operator.js';
import { ThumbnailCache } from './thumbnail-cache.js';

export interface DashboardOptions {
  /** Defaults to config.DASHBOARD_TOKEN. Required when config.HOST is not a loopback address. */
  token?: string | undefined;
  /** Defaults to config.DASHBOARD_VIEWER_TOKEN: tokens that see everything and may not act. */
  viewerTokens?: readonly string[];
  /** Where the dashboard lives, e.g. '/' (default) or '/dashboard/'. */
  basePath?: string;
  /** true (default): images stream through this server; false: 302 to a presigned S3 URL. */
  imageProxy?: boolean;
  /** TRACE_URL_TEMPLATE (config/tracing-config.ts): the task page links to the task's trace. */
  traceUrlTemplate?: string | undefined;
}

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
  const viewerTokens = opts.viewerTokens ?? ctx.config.DASHBOARD_VIEWER_TOKEN;
  if (viewerTokens.length > 0 && token === undefined)
    throw new ConfigError(
      'DASHBOARD_VIEWER_TOKEN needs DASHBOARD_TOKEN: viewers are told apart from the operator',
    );
  for (const [name, value] of [
    ['DASHBOARD_TOKEN', token],
    ...viewerTokens.map((v) => ['DASHBOARD_VIEWER_TOKEN', v] as const),
  ] as const) {
    const problem = value === undefined ? undefined : secretProblem(value);
    if (problem) throw new ConfigError(`${name} ${problem}`);
  }
  const imageProxy = opts.imageProxy ?? true;

  const pages = Router();
  mountAssets(pages);
  mountPageRoutes(pages, ctx, {
    basePath,
    imageOrigins: imageProxy ? [] : s3Origins(ctx.config.S3_ENDPOINT),
  });
  mountMediaRoutes(pages, ctx, { imageProxy, thumbnails: new ThumbnailCache() });
  mountAuditRoutes(pages, ctx, { basePath });
  mountChartAssets(pages);
  mountOperatorPages(pages, ctx, {
    basePath,
    imageOrigins: imageProxy ? [] : s3Origins(ctx.config.S3_ENDPOINT),
    traceUrlTemplate: opts.traceUrlTemplate,
  });
  const api = Router();
  api.use(requireActionHeader);
  mountBatchStream(api, ctx);
  mountApiRoutes(api, ctx);
  mountOperatorActionRoutes(api, ctx);
  mountOverviewStream(api, ctx);

  const operatorBoard = bullBoard(ctx, basePath, false);
  const viewerBoard = bullBoard(ctx, basePath, true);

  const dashboard = Router();
  // Only the dashboard's own paths go through its auth; anything else mounted on the app is left alone.
  dashboard.use((req, _res, next) => next(isDashboardPath(req.path) ? undefined : 'router'));
  dashboard.use(createDashboardAuth({ token, viewerTokens, cookiePath: basePath }));
  dashboard.use(viewersReadOnly);
  dashboard.use(`/${BULL_BOARD_PATH}`, rejectCrossSiteWrites, (req, res, next) =>
    (accessOf(res).role === 'operator' ? operatorBoard : viewerBoard)(req, res, next),
  );
  dashboard.use(api);
  dashboard.use(pages);
  // Errors in the dashboard's routes get the same answers as the rest of the service's.
  dashboard.use(errorToHttp(ctx.logger));
  app.use(basePath, dashboard);
  ctx.logger.info(
    { basePath, auth: token ? 'token' : 'loopback only', viewers: viewerTokens.length, imageProxy },
    'dashboard mounted',
  );
}

/** bull-board's router; `readOnly` is its per-queue readOnlyMode (no retry, clean, pause… in the UI or API). */
function bullBoard(ctx: DashboardContext, basePath: string, readOnly: boolean): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(`${basePath}${BULL_BOARD_PATH}`);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.queue, { readOnlyMode: readOnly })],
    serverAdapter: adapter,
    options: { uiConfig: bullBoardUiConfig(basePath) },
  });
  adapter.setViewsPath(offlineViewsDir()); // bull-board's page without its web font from the internet
  return adapter.getRouter() as Router;
}

function isDashboardPath(path: string): boolean {
  return /^\/(?:$|batches\/|tasks\/|deliveries$|overview$|audit$|api\/|media\/|assets\/|admin\/queues(?:\/|$))/.test(
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
