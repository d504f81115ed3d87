// The processes behind `npm start`, started in order and each added to `closers` as it starts: Redis,
// the embedded S3 server, the simulator (ports from demo.json, recorded again), then the service.
import { resolve } from 'node:path';
import { type DemoState, readDemoState, writeDemoState } from '../config/demo-state.js';
import { type Config, loadConfig } from '../config/load-config.js';
import { type EmbeddedRedis, ensureRedis } from '../embedded/ensure-redis.js';
import { startEmbeddedS3 } from '../embedded/start-embedded-s3.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { type RunningService, startService } from '../service/start-service.js';
import { startSimulator } from '../simulator/index.js';
import { persists } from '../tasks/redis-persistence.js';
import { persistedWebhookSecret } from './demo-secrets.js';
import { mountOperatorSurface } from './operator-surface.js';

const SIMULATED_API_KEY = 'simulator';

export interface DemoStack {
  svc: RunningService;
  simulated: boolean;
  recorded: DemoState;
}

export async function startDemoStack(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  closers: (() => Promise<void>)[],
): Promise<DemoStack> {
  const state = readDemoState(dataDir);
  env.WEBHOOK_SECRET ??= persistedWebhookSecret(dataDir);
  env.LOG_LEVEL ??= 'warn';
  const base = loadConfig(env);

  const redis = await ensureRedis({ url: env.REDIS_URL || undefined, dataDir, port: state.redisPort });
  closers.push(redis.stop);
  console.log(describeRedis(redis, dataDir));
  writeDemoState(dataDir, { ...state, redisUrl: redis.url, redisPort: redis.port });

  const s3Port = env.S3_ENDPOINT ? undefined : await startS3(env, dataDir, base, state, closers);
  const simulated = !env.RUNWARE_API_KEY;
  const simulatorPort = simulated ? await startSim(env, dataDir, state, closers) : undefined;
  if (!simulated) console.log(`Provider: Runware at ${base.RUNWARE_API_URL}`);
  const recorded = { ...readDemoState(dataDir), s3Port, simulatorPort };
  writeDemoState(dataDir, recorded);

  const config = loadConfig({ ...env, REDIS_URL: redis.url });
  const svc = await startService({
    config,
    role: 'all',
    logger: createLogger(config.LOG_LEVEL),
    mount: mountOperatorSurface,
  });
  closers.unshift(() => svc.close());
  console.log(`Dashboard: ${svc.url}/   queues: ${svc.url}/admin/queues   metrics: ${svc.url}/metrics`);
  return { svc, simulated, recorded };
}

/** The embedded S3 server; points `env` at it and returns its port. */
async function startS3(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  base: Config,
  state: DemoState,
  closers: (() => Promise<void>)[],
): Promise<number> {
  const s3 = await startEmbeddedS3(dataDir, base.S3_BUCKET, state.s3Port);
  closers.push(s3.stop);
  Object.assign(env, {
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  console.log(`S3: embedded server at ${s3.endpoint}, objects under ${s3.directory}/${base.S3_BUCKET}/`);
  return s3.port;
}

/** The simulator on its recorded port, with its journal; points `env` at it and returns its port. */
async function startSim(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  state: DemoState,
  closers: (() => Promise<void>)[],
): Promise<number> {
  const sim = await startSimulator({
    // The same port as last time: result URLs recorded by an interrupted run name it.
    port: state.simulatorPort ?? 0,
    latency: { minMs: 500, maxMs: 3000 },
    faults: { duplicateWebhook: 0.1, dropWebhook: 0.05 },
    stateFile: resolve(dataDir, 'simulator', 'journal.jsonl'),
  }).catch((e: unknown) => {
    throw portInUse(e, state.simulatorPort, dataDir) ?? e;
  });
  closers.push(() => sim.close());
  const host = new URL(sim.baseUrl).host;
  Object.assign(env, {
    RUNWARE_API_URL: sim.url,
    RUNWARE_API_KEY: SIMULATED_API_KEY,
    FETCH_ALLOWED_HOSTS: [env.FETCH_ALLOWED_HOSTS, host].filter(Boolean).join(','),
    FIRST_POLL_AFTER_MS: env.FIRST_POLL_AFTER_MS ?? '8000',
  });
  console.log(
    `Provider: simulator at ${sim.url} (drops 5% of webhooks, duplicates 10%: polling recovers them)`,
  );
  return sim.port;
}

function describeRedis(r: EmbeddedRedis, dataDir: string): string {
  const where = {
    REDIS_URL: 'from REDIS_URL',
    started: `private redis-server, data under ${dataDir}/redis`,
    adopted: `private redis-server left running by an earlier run, data under ${dataDir}/redis`,
    default: 'the default URL (no redis-server binary to start a private one)',
  }[r.source];
  const persistence = persists(r.persistence)
    ? `persists: ${r.persistence.detail}`
    : `does NOT persist: ${r.persistence.detail}`;
  return `Redis: ${r.url} (${where}; ${persistence})`;
}

function portInUse(e: unknown, port: number | undefined, dataDir: string): Error | undefined {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === undefined) return undefined;
  return new ConfigError(
    `the simulator's port ${port} (recorded in ${dataDir}/demo.json) is in use by another program: free it, or delete demo.json to start afresh`,
  );
}
