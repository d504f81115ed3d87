// startPipeline's shape on a Redis Cluster: the simulator, a webhook server configured with
// REDIS_CLUSTER_NODES, a worker given only a plain REDIS_URL naming one node (cluster mode detected),
// and a producer on its own Cluster client. Returns a Pipeline, so checkInvariants applies unchanged.
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config/load-config.js';
import { createProducer } from '../../src/producer/create-producer.js';
import { startService } from '../../src/service/start-service.js';
import { type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { connectRedis } from '../../src/tasks/redis-connection.js';
import { testConfig } from './env.js';
import type { Pipeline } from './pipeline.js';
import type { LocalRedisCluster } from './redis-cluster.js';

export async function startClusterPipeline(
  cluster: LocalRedisCluster,
  opts: { sim?: SimulatorOptions; env?: Record<string, string> } = {},
): Promise<Pipeline> {
  const sim = await startSimulator({ port: 0, latency: { minMs: 5, maxMs: 40 }, ...opts.sim });
  const base = testConfig({
    RUNWARE_API_URL: sim.url,
    RUNWARE_API_KEY: 'test-key',
    FETCH_ALLOWED_HOSTS: new URL(sim.baseUrl).host,
    PORT: '0',
    FIRST_POLL_AFTER_MS: '1500',
    MAX_POLL_INTERVAL_MS: '3000',
    RESULT_DEADLINE_MS: '60000',
    UPLOAD_CONFIRM_TIMEOUT_MS: '8000',
    RATE_LIMIT_BACKOFF_MS: '200',
    WORKER_CONCURRENCY: '16',
    ...opts.env,
  });
  // Two ways of naming the same cluster, one per role, so both paths run in every test.
  const listed: Config = { ...base, REDIS_URL: cluster.seedUrl, REDIS_CLUSTER_NODES: cluster.nodes };
  const web = await startService({ config: listed, role: 'webhook' });
  const oneNode: Config = {
    ...base,
    REDIS_URL: cluster.seedUrl,
    REDIS_CLUSTER_NODES: [],
    PUBLIC_URL: web.url!,
  };
  const worker = await startService({ config: oneNode, role: 'worker', worker: { lockDurationMs: 5000 } });
  const redis = await connectRedis(listed);
  const producer = createProducer({ connection: redis, config: listed });
  const svc = { ...web, worker: worker.worker, config: oneNode };
  return {
    sim,
    svc,
    workerSvc: worker,
    producer,
    config: oneNode,
    // Pipeline types its spare connection as a single-node client; nothing in checkInvariants uses it.
    redis: redis as Redis,
    async close() {
      await producer.close();
      await worker.close();
      await web.close();
      await sim.close();
      redis.disconnect();
    },
  };
}
