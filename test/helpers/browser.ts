// The dashboard under test: a pipeline (simulator + service + worker on the run's Redis and S3) whose
// HTTP server has the dashboard mounted, and a real headless Chromium (Debian's package) driven by
// playwright-core. A missing Chromium fails the run, in CI and locally alike: these tests never skip.
import { execFileSync } from 'node:child_process';
import type { Express } from 'express';
import { type Browser, chromium } from 'playwright-core';
import { type DashboardOptions, mountDashboard } from '../../src/dashboard/mount-dashboard.js';
import type { ServiceContext } from '../../src/service/start-service.js';
import type { SimulatorOptions } from '../../src/simulator/index.js';
import { type Pipeline, startPipeline } from './pipeline.js';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** The path of Debian's `chromium`, or an error saying how to install it. */
export function chromiumPath(): string {
  try {
    const path = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // fall through to the error below
  }
  const where = process.env.CI === 'true' ? 'CI' : 'this machine';
  throw new Error(
    `chromium is not installed on ${where}: the dashboard browser tests need it (apt-get install chromium; .ci/run installs it)`,
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

export interface DashboardPipeline extends Pipeline {
  /** Base URL of the dashboard, ending in '/'. */
  dashboardUrl: string;
}

/**
 * startPipeline (test/helpers/pipeline.ts) with the dashboard mounted on the webhook server. Same
 * settings: simulator on a free port, the worker in-process with the server's real PUBLIC_URL.
 */
export async function startDashboardPipeline(
  opts: {
    sim?: SimulatorOptions;
    env?: Record<string, string>;
    dashboard?: DashboardOptions;
    /** Mount more (e.g. a second dashboard under another base path) after the first. */
    alsoMount?: (app: Express, ctx: ServiceContext) => void;
  } = {},
): Promise<DashboardPipeline> {
  const p = await startPipeline({
    ...(opts.sim ? { sim: opts.sim } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    mount: (app, ctx) => {
      mountDashboard(app, ctx, opts.dashboard ?? {});
      opts.alsoMount?.(app, ctx);
    },
  });
  const base = (opts.dashboard?.basePath ?? '/').replace(/^\/?/, '/').replace(/\/?$/, '/');
  return { ...p, dashboardUrl: `${p.svc.url}${base}` };
}
