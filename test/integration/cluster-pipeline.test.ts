// The end-to-end pipeline on a real three-master Redis Cluster, with the invariants of the pipeline
// tests: every task ended, stored objects equal the provider's results byte for byte, nothing stored
// twice, nothing stuck, batch counters match the queue.
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, type Pipeline, waitForBatch } from '../helpers/pipeline.js';
import { type LocalRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { startClusterPipeline } from '../helpers/scale-pipeline.js';

const task = (i: number, extra: Record<string, unknown> = {}) => ({
  positivePrompt: `cluster prompt number ${i}`,
  width: 1024,
  height: 1024,
  ...extra,
});

let cluster: LocalRedisCluster;
let p: Pipeline | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterEach(async () => {
  await p?.close();
  p = undefined;
});
afterAll(async () => {
  await cluster?.stop();
});

describe('pipeline on a Redis Cluster', () => {
  it('a batch with dropped, duplicated and reordered webhooks stores every output once', async () => {
    p = await startClusterPipeline(cluster, {
      sim: { faults: { dropWebhook: 0.2, duplicateWebhook: 0.5, reorderWebhooks: 0.5 }, seed: 5 },
    });
    expect(p.svc.redis).toBeInstanceOf(Cluster);
    expect(p.workerSvc?.redis, 'a plain REDIS_URL naming a cluster node').toBeInstanceOf(Cluster);
    const batch = await p.producer.enqueueBatch(
      Array.from({ length: 24 }, (_, i) => task(i, { numberResults: 1 + (i % 3) })),
    );
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 24, failed: 0 });
    const report = await checkInvariants(p, batch.batchId);
    expect(report.objects).toBe(48);
    expect(report.recoveredByPolling, 'dropped webhooks recovered by polling').toBeGreaterThan(0);
    expect(p.sim.stats().tasksAccepted, 'each task submitted once').toBe(24);
  });

  it('upload mode confirms every presigned upload through the cluster', async () => {
    p = await startClusterPipeline(cluster, { env: { DELIVERY_MODE: 'upload' } });
    const batch = await p.producer.enqueueBatch([task(1, { numberResults: 3 }), task(2)]);
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: 2 });
    const report = await checkInvariants(p, batch.batchId);
    expect(report.objects).toBe(4);
    expect(p.sim.stats().uploads).toBe(4);
  });
});
