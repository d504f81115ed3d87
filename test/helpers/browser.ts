// The dashboard under test: a pipeline (simulator + service + worker on the run's Redis and S3) whose
// HTTP server has the dashboard mounted, and a real headless Chromium (Debian's package) driven by
// playwright-core. A missing Chromium fails the run, in CI and locally alike: these tests never skip.
import { execFileSync } from 'node:child_process';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import { type Browser, chromium } from 'playwright-core';
import { type DashboardOptions, mountDashboard } from '../../src/dashboard/mount-dashboard.js';
import { createProducer } from '../../src/producer/create-producer.js';
import { type RunningService, type ServiceContext, startService } from '../../src/service/start-service.js';
import { type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { testConfig } from './env.js';
import type { Pipeline } from './pipeline.js';

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
  const sim = await startSimulator({ port: 0, latency: { minMs: 5, maxMs: 40 }, ...opts.sim });
  const config = testConfig({
    RUNWARE_API_URL: sim.url,
    RUNWARE_API_KEY: 'test-key',
    FETCH_ALLOWED_HOSTS: new URL(sim.baseUrl).host,
    PORT: '0',
    FIRST_POLL_AFTER_MS: '1500',
    MAX_POLL_INTERVAL_MS: '3000',
    RESULT_DEADLINE_MS: '60000',
    RATE_LIMIT_BACKOFF_MS: '200',
    WORKER_CONCURRENCY: '16',
    ...opts.env,
  });
  const web = await startService({
    config,
    role: 'webhook',
    mount: (app, ctx) => {
      mountDashboard(app, ctx, opts.dashboard ?? {});
      opts.alsoMount?.(app, ctx);
    },
  });
  const withUrl = { ...config, PUBLIC_URL: web.url! };
  const worker = await startService({ config: withUrl, role: 'worker', worker: { lockDurationMs: 5000 } });
  const redis = new Redis(config.REDIS_URL);
  const producer = createProducer({ connection: redis, config });
  const svc = { ...web, worker: worker.worker, config: withUrl } as RunningService;
  const base = (opts.dashboard?.basePath ?? '/').replace(/^\/?/, '/').replace(/\/?$/, '/');
  return {
    sim,
    svc,
    workerSvc: worker,
    producer,
    config: withUrl,
    redis,
    dashboardUrl: `${web.url}${base}`,
    async close() {
      await producer.close();
      await worker.close();
      await web.close();
      await sim.close();
      redis.disconnect();
    },
  };
}
