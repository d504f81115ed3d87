// startPipeline's shape on a Redis Cluster: the simulator, a webhook server configured with
// REDIS_CLUSTER_NODES, a worker given only a plain REDIS_URL naming one node (cluster mode detected),
// and a producer on its own Cluster client. Returns a Pipeline, so checkInvariants applies unchanged.
import type { SimulatorOptions } from '../../src/simulator/index.js';
import { type Pipeline, startPipeline } from './pipeline.js';
import type { LocalRedisCluster } from './redis-cluster.js';

export function startClusterPipeline(
  cluster: LocalRedisCluster,
  opts: { sim?: SimulatorOptions; env?: Record<string, string> } = {},
): Promise<Pipeline> {
  // Two ways of naming the same cluster, one per role, so both paths run in every test: the server
  // and producer get the node list, the worker only a plain URL naming one node.
  return startPipeline({
    ...opts,
    configFor: (role, base) =>
      role === 'worker'
        ? { ...base, REDIS_URL: cluster.seedUrl, REDIS_CLUSTER_NODES: [] }
        : { ...base, REDIS_URL: cluster.seedUrl, REDIS_CLUSTER_NODES: cluster.nodes },
  });
}
