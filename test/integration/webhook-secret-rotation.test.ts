// Rotating WEBHOOK_SECRET without downtime: tasks in flight carry webhook URLs signed with the old
// secret; the webhook server restarted with WEBHOOK_SECRET=new and WEBHOOK_SECRET_PREVIOUS=old still
// accepts them, so the batch completes by webhooks, not by polling: every result reached us by webhook
// (the simulator's record per slot), nothing was polled, and every slot was recorded as a new webhook.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.js';
import { createProducer } from '../../src/producer/create-producer.js';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { readBatchStatus, readBatchTasks } from '../../src/status/read-status.js';
import { connectRedis } from '../../src/tasks/redis-connection.js';
import { webhookUrlFor } from '../../src/tokens/webhook-token.js';
import { testConfig, testSecret } from '../helpers/env.js';
import { until } from '../helpers/relay-observer.js';

/** Long enough that every task is submitted, and the server restarted, before its first result. */
const ITEM_LATENCY = { minMs: 2500, maxMs: 3500 };
const TASKS = 6;
const RESULTS_PER_TASK = 2;
const WAIT_MS = 60_000;

const closers: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function webhookServer(config: Config): Promise<RunningService> {
  const svc = await startService({ config, role: 'webhook' });
  return svc;
}

async function newWebhooks(svc: RunningService): Promise<number> {
  const m = await svc.metrics.webhooks.get();
  return m.values.filter((v) => v.labels.outcome === 'new').reduce((s, v) => s + v.value, 0);
}

describe('WEBHOOK_SECRET rotation', () => {
  it('a batch in flight across the rotation completes by webhooks, not by polling', async () => {
    const oldSecret = testSecret();
    const newSecret = testSecret();
    const sim: Simulator = await startSimulator({ port: 0, latency: ITEM_LATENCY });
    closers.push(() => sim.close());
    const base = testConfig({
      RUNWARE_API_URL: sim.url,
      RUNWARE_API_KEY: 'test-key',
      FETCH_ALLOWED_HOSTS: new URL(sim.baseUrl).host,
      PORT: '0',
      WEBHOOK_SECRET: oldSecret,
      // Polling would start only after the test's deadline: whatever completes came by webhook.
      FIRST_POLL_AFTER_MS: String(10 * WAIT_MS),
      MAX_POLL_INTERVAL_MS: String(10 * WAIT_MS),
      RESULT_DEADLINE_MS: String(20 * WAIT_MS),
    });
    const before = await webhookServer(base);
    const port = Number(new URL(before.url!).port);
    const workerConfig: Config = { ...base, PUBLIC_URL: before.url! };
    const worker = await startService({ config: workerConfig, role: 'worker' });
    closers.push(() => worker.close());
    const redis = (await connectRedis(base)) as Redis;
    closers.push(() => redis.disconnect());
    const producer = createProducer({ connection: redis, config: base });
    closers.push(() => producer.close());

    const tasks = Array.from({ length: TASKS }, (_, i) => ({
      positivePrompt: `rotation task ${i}`,
      width: 1024,
      height: 1024,
      numberResults: RESULTS_PER_TASK,
    }));
    const { batchId } = await producer.enqueueBatch(tasks);
    const uuids = await worker.batches.taskUUIDs(batchId, 0, TASKS);
    await until(
      async () =>
        (await Promise.all(uuids.map((u) => worker.tasks.get(u)))).every((r) => r?.state === 'submitted'),
      WAIT_MS,
      'every task submitted with a URL signed by the old secret',
    );
    expect(sim.results()).toHaveLength(0);

    // The rotation: the webhook server comes back on the same port with the new secret and the old one
    // as WEBHOOK_SECRET_PREVIOUS (a result arriving in between is retried by the provider).
    await before.close();
    const rotated: Config = {
      ...base,
      PORT: port,
      WEBHOOK_SECRET: newSecret,
      WEBHOOK_SECRET_PREVIOUS: oldSecret,
    };
    const after = await webhookServer(rotated);
    closers.push(() => after.close());

    await until(
      async () => (await readBatchStatus(worker, batchId))?.state === 'completed',
      WAIT_MS,
      'the batch completed',
    );
    const results = sim.results();
    expect(results).toHaveLength(TASKS * RESULTS_PER_TASK);
    expect(results.map((r) => r.delivered)).toEqual(Array(TASKS * RESULTS_PER_TASK).fill('webhook'));
    expect(sim.stats().polls, 'no getResponse call').toBe(0);
    expect((await worker.metrics.recoveredByPolling.get()).values[0]?.value ?? 0).toBe(0);
    expect(await newWebhooks(after), 'every slot arrived as a new webhook at the rotated server').toBe(
      TASKS * RESULTS_PER_TASK,
    );
    const stored = await readBatchTasks(worker, batchId, 0, TASKS);
    expect(stored.map((t) => t.outputs.length)).toEqual(Array(TASKS).fill(RESULTS_PER_TASK));

    // The rotated server still checks tokens: one signed with neither secret is refused.
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const forged = webhookUrlFor(after.url!, randomBytes(24).toString('base64url'), uuids[0]!, exp);
    const res = await fetch(forged, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });
});
