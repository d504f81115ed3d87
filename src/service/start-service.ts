// Composes the long-lived roles from one Config: the worker, the HTTP server (webhooks, metrics,
// health, and whatever else is mounted on it), or both. Every connection it opens it closes.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import express, { type Express } from 'express';
import type { Config } from '../config/load-config.js';
import { EVENTS_URL_NEEDS_SECRET, SECRET_MIN_CHARS } from '../config/secret-policy.js';
import { ConfigError } from '../errors.js';
import { dispatcherOptionsFromConfig, startEventDispatcher } from '../events/index.js';
import { errorToHttp } from '../http/error-to-http.js';
import { createLogger, type Logger } from '../log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { fetchPolicyFromConfig } from '../outputs/fetch-policy.js';
import { createOutputDispatcher } from '../outputs/guarded-dispatcher.js';
import { RunwareClient } from '../provider/runware-client.js';
import { ObjectStore } from '../storage/object-store.js';
import { DeliveryStats } from '../tasks/delivery-stats.js';
import type { TaskJobData, TaskJobResult } from '../tasks/job-data.js';
import { connectRedis } from '../tasks/redis-connection.js';
import { closeRelayState, openRelayState, type RelayState } from '../tasks/relay-state.js';
import { mountWebhookRoutes } from '../webhook/create-webhook-app.js';
import { createTaskWorker, type TaskWorkerOptions } from '../worker/create-task-worker.js';
import { PollPlanner } from '../worker/poll-planner.js';
import { type DataLossGuard, isMissingKeyError, startDataLossGuard } from './data-loss-guard.js';
import { guardMetrics } from './metrics-access.js';
import { collectQueueDepths } from './queue-depth-metrics.js';
import { requireDurableRedis } from './require-durable-redis.js';
import { collectTenantFigures } from './tenant-metrics.js';
import { collectWebhookLoss } from './webhook-loss-metric.js';

export type Role = 'worker' | 'webhook' | 'all';

/** The secrets the webhook server accepts tokens from: the current one, and the previous during a rotation. */
function webhookSecrets(current: string, previous: string | undefined): string[] {
  return previous && previous !== current ? [current, previous] : [current];
}

/** Longer than common load balancers' idle timeouts, so they close first. */
const HTTP_KEEP_ALIVE_MS = 65_000;

/** The Redis-side state (openRelayState) plus what a service adds: its config, S3, metrics and logger. */
export interface ServiceContext extends RelayState {
  config: Config;
  store: ObjectStore;
  metrics: RelayMetrics;
  logger: Logger;
}

export interface ServiceOptions {
  config: Config;
  role?: Role;
  logger?: Logger;
  worker?: TaskWorkerOptions;
  /** Mount more routes (dashboard, events) on the HTTP server before it listens. */
  mount?: (app: Express, ctx: ServiceContext) => void | Promise<void>;
}

export interface RunningService extends ServiceContext {
  worker: Worker<TaskJobData, TaskJobResult> | undefined;
  server: Server | undefined;
  /** Base URL of the HTTP server, when this process runs it. */
  url: string | undefined;
  /** Watches the dataset's epoch; `lost` once Redis lost its data (the worker is then paused). */
  dataLoss: DataLossGuard;
  close(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { config } = opts;
  const role = opts.role ?? 'all';
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  if (!config.WEBHOOK_SECRET)
    throw new ConfigError(
      `WEBHOOK_SECRET must be set (at least ${SECRET_MIN_CHARS} characters: kontext-relay secret WEBHOOK_SECRET)`,
    );
  if (config.EVENTS_WEBHOOK_URL && !config.EVENTS_WEBHOOK_SECRET)
    throw new ConfigError(EVENTS_URL_NEEDS_SECRET);
  // connectRedis, not createRedis: a plain REDIS_URL may name one node of a Redis Cluster.
  const redis = await connectRedis(config);
  try {
    const persistence = await requireDurableRedis(redis, config);
    if (persistence.kind === 'none' || persistence.kind === 'unknown')
      logger.warn(
        { persistence: persistence.detail },
        'ALLOW_EPHEMERAL_REDIS=true: Redis may forget the queue',
      );
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const state = openRelayState(config, redis);
  const { queue, tasks } = state;
  // Connection errors (e.g. Redis restarting) are logged, not thrown: ioredis reconnects by itself.
  queue.on('error', (err) => logger.warn({ err }, 'queue connection error'));
  const store = ObjectStore.fromConfig(config);
  await store.ensureBucket();
  const metrics = new RelayMetrics();
  collectQueueDepths(metrics, queue, tasks);
  const delivery = new DeliveryStats(redis, tasks.keys, {
    lossThreshold: config.WEBHOOK_LOSS_THRESHOLD,
    minSlots: config.WEBHOOK_HEALTH_MIN_SLOTS,
    recoverAfter: config.WEBHOOK_RECOVER_AFTER,
  });
  collectWebhookLoss(metrics, delivery);
  const ctx: ServiceContext = {
    ...state,
    config,
    store,
    metrics,
    logger,
  };
  if (config.MAX_IN_FLIGHT) collectTenantFigures(metrics, ctx.admission, config.MAX_IN_FLIGHT);
  const closers: (() => Promise<unknown>)[] = [];

  let worker: RunningService['worker'];
  const dataLoss = await startDataLossGuard({
    redis,
    keys: tasks.keys,
    metrics,
    logger,
    intervalMs: config.EPOCH_CHECK_MS,
    onLost: async () => {
      // Stop taking jobs; the active ones are left to finish or fail on their own.
      await worker?.pause(true);
    },
  });
  closers.push(async () => dataLoss.stop());

  if (role === 'worker' || role === 'all') {
    if (!config.RUNWARE_API_KEY) throw new ConfigError('RUNWARE_API_KEY must be set for the worker role');
    const client = new RunwareClient({
      url: config.RUNWARE_API_URL,
      apiKey: config.RUNWARE_API_KEY,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
    });
    const workerRedis = await connectRedis(config);
    const fetchPolicy = fetchPolicyFromConfig(config);
    const fetchDispatcher = createOutputDispatcher(fetchPolicy);
    worker = createTaskWorker(
      {
        config,
        tasks,
        batches: state.batches,
        client,
        store,
        fetchPolicy,
        fetchDispatcher,
        queue,
        metrics,
        logger,
        poll: new PollPlanner(delivery, config, logger),
        ...(config.MAX_IN_FLIGHT ? { admission: ctx.admission } : {}),
      },
      workerRedis,
      opts.worker,
    );
    worker.on('error', (err) => {
      if (isMissingKeyError(err)) void dataLoss.check();
    });
    worker.on('failed', (_job, err) => {
      if (isMissingKeyError(err)) void dataLoss.check();
    });
    closers.push(async () => {
      await worker?.close();
      await client.close();
      await fetchDispatcher.close();
      workerRedis.disconnect();
    });
  }

  let server: Server | undefined;
  let url: string | undefined;
  const serves = role === 'webhook' || role === 'all';
  if (serves || config.METRICS_PORT !== undefined) {
    // A worker-only process still answers /metrics and /healthz when METRICS_PORT is set.
    const app = express();
    app.disable('x-powered-by');
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/metrics', guardMetrics(config), async (_req, res) => {
      res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    if (serves) {
      mountWebhookRoutes(
        app,
        {
          secrets: webhookSecrets(config.WEBHOOK_SECRET, config.WEBHOOK_SECRET_PREVIOUS),
          tasks,
          queue,
          metrics,
          logger,
          delivery,
        },
        { bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES },
      );
      await opts.mount?.(app, ctx);
    }
    app.use(errorToHttp(logger));
    const port = serves ? config.PORT : (config.METRICS_PORT ?? 0);
    const listening = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(port, config.HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    listening.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
    const actual = (listening.address() as AddressInfo).port;
    url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${actual}`;
    server = listening;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        }),
    );
  }

  if (config.EVENTS_WEBHOOK_SECRET) {
    // Signed outgoing completion events. A consumer group shares the work between every process that
    // runs a dispatcher, and resumes where a stopped one left off.
    const dispatcher = await startEventDispatcher(ctx, dispatcherOptionsFromConfig(config));
    closers.push(() => dispatcher.stop());
  }

  return {
    ...ctx,
    worker,
    server,
    url,
    dataLoss,
    async close() {
      for (const c of closers.reverse()) await c();
      await closeRelayState(state);
      redis.disconnect();
    },
  };
}
