// The real infrastructure one benchmark owns: a private redis-server on a free port and, when asked,
// a private s3rver in its own process. `stop()` stops both; nothing is shared between benchmarks.
import { Redis } from 'ioredis';
import { type PrivateRedis, startRedis } from '../../test/helpers/redis-server.js';
import { type Child, spawnTsx } from './children.js';

export interface Services {
  redisUrl: string;
  /** An admin connection (FLUSHALL, INFO, sampling); closed by stop(). */
  redis: Redis;
  /** The redis-server process, for CPU accounting. */
  redisPid: number;
  s3Endpoint: string | undefined;
  s3Pid: number | undefined;
  stop(): Promise<void>;
}

export async function startServices(opts: { s3: boolean }): Promise<Services> {
  const server: PrivateRedis = await startRedis();
  let s3: Child | undefined;
  try {
    if (opts.s3) {
      s3 = await spawnTsx(['bench/support/s3-child.ts'], { name: 's3rver', ready: /^s3 ready (\S+)/ });
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  const redis = new Redis(server.url);
  const info = await redis.info('server');
  return {
    redisUrl: server.url,
    redis,
    redisPid: Number(/process_id:(\d+)/.exec(info)?.[1]),
    s3Endpoint: s3?.ready,
    s3Pid: s3?.pid,
    async stop() {
      redis.disconnect();
      await s3?.stop();
      await server.stop();
    },
  };
}

/** The redis-server version, e.g. "7.0.15" (asked of the running server). */
export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}
