// Every guarantee rests on Redis keeping its data: a role that writes state refuses to start on a
// Redis without AOF or RDB persistence, unless ALLOW_EPHEMERAL_REDIS=true. Private redis-servers with
// and without persistence, and one with CONFIG disabled (as on managed Redis).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { connectRedis } from '../../src/tasks/redis-connection.js';
import { readPersistence } from '../../src/tasks/redis-persistence.js';
import { testConfig } from '../helpers/env.js';
import { runCli } from '../helpers/processes.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';

const servers: PrivateRedis[] = [];
const running: RunningService[] = [];
afterAll(async () => {
  for (const s of running) await s.close();
  for (const r of servers) await r.stop();
});

async function redisWith(opts: Parameters<typeof startRedis>[0]): Promise<PrivateRedis> {
  const r = await startRedis(opts);
  servers.push(r);
  return r;
}

/** A worker role's config on the given Redis; ALLOW_EPHEMERAL_REDIS as given (the helpers default to true). */
const workerConfig = (url: string, allow: 'true' | 'false') =>
  testConfig({ REDIS_URL: url, RUNWARE_API_KEY: 'k', ALLOW_EPHEMERAL_REDIS: allow });

async function start(url: string, allow: 'true' | 'false'): Promise<RunningService> {
  const svc = await startService({ config: workerConfig(url, allow), role: 'worker' });
  running.push(svc);
  return svc;
}

async function persistenceOf(url: string) {
  const c = await connectRedis({ REDIS_URL: url, REDIS_CLUSTER_NODES: [] });
  try {
    return await readPersistence(c);
  } finally {
    c.disconnect();
  }
}

describe('Redis persistence at start-up', () => {
  it('a worker refuses a Redis with neither AOF nor RDB, in one line naming ALLOW_EPHEMERAL_REDIS', async () => {
    const r = await redisWith({ aof: false });
    expect((await persistenceOf(r.url)).kind).toBe('none');
    const err = await start(r.url, 'false').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('ALLOW_EPHEMERAL_REDIS=true');
    expect(message).not.toContain('\n');
  });

  it('ALLOW_EPHEMERAL_REDIS=true starts it anyway', async () => {
    const r = await redisWith({ aof: false });
    const svc = await start(r.url, 'true');
    expect(svc.worker).toBeDefined();
  });

  it('a Redis with AOF, or with RDB snapshots, is accepted without the override', async () => {
    const aof = await redisWith({ aof: true });
    expect(await persistenceOf(aof.url)).toMatchObject({ kind: 'aof' });
    expect((await start(aof.url, 'false')).worker).toBeDefined();
    const rdb = await redisWith({ aof: false, extraArgs: ['--save', '3600 1'] });
    expect(await persistenceOf(rdb.url)).toMatchObject({ kind: 'rdb' });
    expect((await start(rdb.url, 'false')).worker).toBeDefined();
  });

  it('with CONFIG disabled (managed Redis), INFO showing AOF is enough; otherwise it is refused', async () => {
    const noConfig = ['--rename-command', 'CONFIG', ''];
    const aof = await redisWith({ aof: true, extraArgs: noConfig });
    expect(await persistenceOf(aof.url)).toMatchObject({ kind: 'aof' });
    expect((await start(aof.url, 'false')).worker).toBeDefined();
    const blind = await redisWith({ aof: false, extraArgs: [...noConfig, '--save', '3600 1'] });
    expect(await persistenceOf(blind.url)).toMatchObject({ kind: 'unknown' });
    await expect(start(blind.url, 'false')).rejects.toThrow(
      /^Redis persistence cannot be verified, CONFIG is refused and INFO shows no AOF: .*ALLOW_EPHEMERAL_REDIS=true/,
    );
    expect((await start(blind.url, 'true')).worker).toBeDefined();
  });

  it('on a Redis Cluster every master is asked: one master without persistence is enough to refuse', async () => {
    const cluster = await startRedisCluster();
    const c = await connectRedis({ REDIS_URL: 'redis://unused:1', REDIS_CLUSTER_NODES: cluster.nodes });
    try {
      expect(await readPersistence(c)).toMatchObject({ kind: 'none' });
      const [one, ...rest] = cluster.nodes;
      const setAof = async (node: string, value: 'yes' | 'no') => {
        const n = new Redis(`redis://${node}`);
        await n.config('SET', 'appendonly', value);
        n.disconnect();
      };
      await setAof(one!, 'yes');
      expect((await readPersistence(c)).kind, 'two masters still without').toBe('none');
      for (const node of rest) await setAof(node, 'yes');
      expect((await readPersistence(c)).kind).toBe('aof');
      // A node writing its first AOF refuses SIGTERM: turn it off again before stopping the cluster.
      for (const node of cluster.nodes) await setAof(node, 'no');
    } finally {
      c.disconnect();
      await cluster.stop();
    }
  });

  it('`serve` exits 78 with the one-line message, and starts nothing', async () => {
    const r = await redisWith({ aof: false });
    const env = { ...workerEnv(r.url) };
    const res = await runCli(['serve', '--role', 'all'], env);
    expect(res.code).toBe(78);
    const lines = res.stderr.trim().split('\n');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: Redis has no persistence: .*ALLOW_EPHEMERAL_REDIS=true/);
  });
});

function workerEnv(url: string): Record<string, string> {
  const c = workerConfig(url, 'false');
  return {
    REDIS_URL: url,
    QUEUE_PREFIX: c.QUEUE_PREFIX,
    S3_ENDPOINT: c.S3_ENDPOINT ?? '',
    S3_BUCKET: c.S3_BUCKET,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    WEBHOOK_SECRET: c.WEBHOOK_SECRET ?? '',
    RUNWARE_API_KEY: 'k',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ALLOW_EPHEMERAL_REDIS: 'false',
  };
}
