// Redis connections from config: one node (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
// BullMQ's blocking connections need maxRetriesPerRequest: null; that is the default here.
import { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/load-config.js';
import type { RedisClient } from './task-store.js';

export function createRedis(
  cfg: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>,
  opts: { maxRetriesPerRequest?: number | null } = {},
): RedisClient {
  const maxRetriesPerRequest = opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest;
  if (cfg.REDIS_CLUSTER_NODES.length > 0) {
    const nodes = cfg.REDIS_CLUSTER_NODES.map((n) => {
      const u = new URL(n.includes('://') ? n : `redis://${n}`);
      return { host: u.hostname, port: Number(u.port || 6379) };
    });
    return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest }, enableReadyCheck: true });
  }
  return new Redis(cfg.REDIS_URL, { maxRetriesPerRequest });
}
