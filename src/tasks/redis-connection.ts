// Redis connections from config: one node, or a Redis Cluster (REDIS_CLUSTER_NODES, a
// `redis+cluster://` REDIS_URL, or — through connectRedis — a plain REDIS_URL whose node says it is
// in cluster mode). Every key shares one hash tag, so either client runs every script and MULTI as is.
// BullMQ's blocking connections need maxRetriesPerRequest: null; that is the default here.
import { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/load-config.js';
import type { RedisClient } from './task-store.js';

/** REDIS_URL scheme that names a cluster seed node explicitly (`rediss+cluster://` for TLS). */
export const CLUSTER_SCHEMES = ['redis+cluster:', 'rediss+cluster:'] as const;
const DEFAULT_PORT = 6379;

export type RedisConfig = Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>;

export interface RedisConnectionOptions {
  /** null (the default) queues commands until Redis is back; a number fails them after that many retries. */
  maxRetriesPerRequest?: number | null;
}

export interface ClusterNode {
  host: string;
  port: number;
}

/** Which kind of client the configuration alone asks for. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; auth: NodeAuth };

interface NodeAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/** From config alone: REDIS_CLUSTER_NODES or a `redis+cluster://` URL mean a cluster, else one node. */
export function redisTopology(cfg: RedisConfig): RedisTopology {
  if (cfg.REDIS_CLUSTER_NODES.length > 0) {
    const urls = cfg.REDIS_CLUSTER_NODES.map((n) => new URL(n.includes('://') ? n : `redis://${n}`));
    return { kind: 'cluster', nodes: urls.map(nodeOf), auth: authOf(urls) };
  }
  const url = new URL(cfg.REDIS_URL);
  if ((CLUSTER_SCHEMES as readonly string[]).includes(url.protocol)) {
    return { kind: 'cluster', nodes: [nodeOf(url)], auth: authOf([url]) };
  }
  return { kind: 'single', url: cfg.REDIS_URL };
}

/**
 * A client from config alone, without asking Redis. A plain REDIS_URL gives a single-node client even
 * when that node belongs to a cluster; long-lived roles use connectRedis, which asks.
 */
export function createRedis(cfg: RedisConfig, opts: RedisConnectionOptions = {}): RedisClient {
  const topology = redisTopology(cfg);
  const maxRetriesPerRequest = retries(opts);
  if (topology.kind === 'cluster') return createCluster(topology.nodes, topology.auth, maxRetriesPerRequest);
  return new Redis(topology.url, { maxRetriesPerRequest });
}

/**
 * Like createRedis, but a plain REDIS_URL is first asked `INFO cluster`: when its node says
 * `cluster_enabled:1` the client is a Cluster seeded with that node. Waits for Redis like any command
 * would (forever by default). A server that refuses INFO (some managed proxies) is taken as one node.
 */
export async function connectRedis(
  cfg: RedisConfig,
  opts: RedisConnectionOptions = {},
): Promise<RedisClient> {
  const topology = redisTopology(cfg);
  if (topology.kind === 'cluster') return createRedis(cfg, opts);
  const single = new Redis(topology.url, { maxRetriesPerRequest: retries(opts) });
  // While asking, connection errors reach the caller as the probe's rejection, not as unhandled events.
  const quiet = () => {};
  single.on('error', quiet);
  let clusterEnabled: boolean;
  try {
    clusterEnabled = await isClusterEnabled(single);
  } catch (e) {
    if (!isCommandRefused(e)) {
      single.disconnect();
      throw e;
    }
    clusterEnabled = false;
  } finally {
    single.off('error', quiet);
  }
  if (!clusterEnabled) return single;
  single.disconnect();
  const url = new URL(topology.url);
  return createCluster([nodeOf(url)], authOf([url]), retries(opts));
}

/** Whether the node behind this connection runs in cluster mode. */
export async function isClusterEnabled(client: Redis): Promise<boolean> {
  const info = await client.info('cluster');
  return /^cluster_enabled:1\s*$/m.test(info);
}

function createCluster(nodes: ClusterNode[], auth: NodeAuth, maxRetriesPerRequest: number | null): Cluster {
  return new Cluster(nodes, {
    redisOptions: {
      maxRetriesPerRequest,
      ...(auth.username ? { username: auth.username } : {}),
      ...(auth.password ? { password: auth.password } : {}),
      ...(auth.tls ? { tls: {} } : {}),
    },
    enableReadyCheck: true,
  });
}

function retries(opts: RedisConnectionOptions): number | null {
  return opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest;
}

function nodeOf(u: URL): ClusterNode {
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || DEFAULT_PORT) };
}

/** Credentials and TLS from the first node URL that carries them (a cluster shares one ACL). */
function authOf(urls: URL[]): NodeAuth {
  const withAuth = urls.find((u) => u.password || u.username);
  return {
    ...(withAuth?.username ? { username: decodeURIComponent(withAuth.username) } : {}),
    ...(withAuth?.password ? { password: decodeURIComponent(withAuth.password) } : {}),
    tls: urls.some((u) => u.protocol.startsWith('rediss')),
  };
}

/** An error reply (unknown or disabled command), as opposed to a connection failure. */
function isCommandRefused(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError';
}
