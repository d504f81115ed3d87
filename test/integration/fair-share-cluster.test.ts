// Fair share (issue 14) on a real three-master Redis Cluster: the admission script's keys share the
// queue's hash tag, so it runs atomically on one node, and the cap holds for a whole batch.
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBatchTasks } from '../../src/status/read-status.js';
import { maxOverlap } from '../helpers/fair-share.js';
import { checkInvariants, type Pipeline, waitForBatch } from '../helpers/pipeline.js';
import { type LocalRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { startClusterPipeline } from '../helpers/scale-pipeline.js';

const CAP = 3;
const TASKS = 20;

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

describe('fair share on a Redis Cluster', () => {
  it('admits through the cluster within MAX_IN_FLIGHT and gives every slot back', async () => {
    p = await startClusterPipeline(cluster, {
      sim: { latency: { minMs: 100, maxMs: 250 } },
      env: { MAX_IN_FLIGHT: String(CAP) },
    });
    expect(p.workerSvc?.redis).toBeInstanceOf(Cluster);
    await p.svc.admission.setTenant('acme', { weight: 2, maxInFlight: 2 });
    const batch = await p.producer.enqueueBatch(
      Array.from({ length: TASKS }, (_, i) => ({
        positivePrompt: `cluster fair ${i}`,
        width: 1024,
        height: 1024,
      })),
      { tenant: 'acme' },
    );
    const s = await waitForBatch(p, batch.batchId);
    expect(s).toMatchObject({ state: 'completed', completed: TASKS, failed: 0 });
    await checkInvariants(p, batch.batchId);
    const tasks = await readBatchTasks(p.svc, batch.batchId, 0, TASKS);
    // The tenant's own cap (2) is below the global one (3): it is the one that binds.
    expect(maxOverlap(tasks)).toBeLessThanOrEqual(2);
    expect(await p.svc.admission.inFlight()).toBe(0);
    const acme = (await p.svc.admission.tenants()).find((t) => t.tenant === 'acme');
    expect(acme).toMatchObject({ weight: 2, maxInFlight: 2, inFlight: 0, queued: 0, ended: TASKS });
  }, 120_000);
});
