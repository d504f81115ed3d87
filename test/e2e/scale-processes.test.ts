// Scale-out with real processes: two worker processes and two webhook-server processes on one queue,
// the provider's webhooks spread over both servers by a round-robin proxy (so duplicates of one item
// land on different servers). Nothing is lost, duplicated or processed twice.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import { RelayMetrics } from '../../src/metrics/relay-metrics.js';
import { createProducer, type Producer } from '../../src/producer/create-producer.js';
import type { RunningService } from '../../src/service/start-service.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { closeRelayState, openRelayState } from '../../src/tasks/relay-state.js';
import { testEnv } from '../helpers/env.js';
import { freePort } from '../helpers/free-port.js';
import { checkInvariants, type Pipeline, waitForBatch } from '../helpers/pipeline.js';
import { type ServeProcess, startServeProcess } from '../helpers/scale-processes.js';
import { type RoundRobinProxy, startRoundRobinProxy } from '../helpers/scale-proxy.js';

const TASKS = 40;
const task = (i: number) => ({
  positivePrompt: `scale-out prompt ${i}`,
  width: 1024,
  height: 1024,
  numberResults: 1 + (i % 3),
});

const procs: ServeProcess[] = [];
const closers: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const c of closers.reverse()) await c();
});

/** The relay's whole configuration, as the environment every process gets. */
function relayEnv(sim: Simulator): Record<string, string> {
  return testEnv({
    LOG_LEVEL: 'info',
    RUNWARE_API_URL: sim.url,
    RUNWARE_API_KEY: 'test-key',
    FETCH_ALLOWED_HOSTS: new URL(sim.baseUrl).host,
    FIRST_POLL_AFTER_MS: '1500',
    MAX_POLL_INTERVAL_MS: '3000',
    RESULT_DEADLINE_MS: '60000',
    WORKER_CONCURRENCY: '8',
    HOST: '127.0.0.1',
  });
}

/** What checkInvariants reads, built from the outside: the roles themselves run in other processes. */
function observer(config: Config, sim: Simulator, redis: Redis, producer: Producer): Pipeline {
  const state = openRelayState(config, redis);
  const svc = {
    ...state,
    config,
    store: ObjectStore.fromConfig(config),
    // Polling recoveries happen in the worker processes and are counted from their logs instead.
    metrics: new RelayMetrics(),
  } as unknown as RunningService;
  closers.push(() => closeRelayState(state));
  return { sim, svc, workerSvc: undefined, producer, config, redis, close: async () => {} };
}

async function webhookOutcomes(server: ServeProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kr_webhooks_total\{outcome="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('two workers and two webhook servers on one queue', () => {
  it('every task is submitted once, finished once, and every item recorded and stored once', async () => {
    const sim = await startSimulator({
      port: 0,
      latency: { minMs: 10, maxMs: 60 },
      faults: { duplicateWebhook: 0.5, reorderWebhooks: 0.3, dropWebhook: 0.1 },
      seed: 21,
    });
    closers.push(() => sim.close());
    const env = relayEnv(sim);
    const [portA, portB] = [await freePort(), await freePort()];
    const proxy: RoundRobinProxy = await startRoundRobinProxy([
      `http://127.0.0.1:${portA}`,
      `http://127.0.0.1:${portB}`,
    ]);
    closers.push(() => proxy.close());
    const started = await Promise.all([
      startServeProcess({ name: 'webhook-a', role: 'webhook', env: { ...env, PORT: String(portA) } }),
      startServeProcess({ name: 'webhook-b', role: 'webhook', env: { ...env, PORT: String(portB) } }),
      startServeProcess({ name: 'worker-a', role: 'worker', env: { ...env, PUBLIC_URL: proxy.url } }),
      startServeProcess({ name: 'worker-b', role: 'worker', env: { ...env, PUBLIC_URL: proxy.url } }),
    ]);
    procs.push(...started);
    const [webA, webB, workerA, workerB] = started as [
      ServeProcess,
      ServeProcess,
      ServeProcess,
      ServeProcess,
    ];

    const config = loadConfig(env);
    const redis = new Redis(config.REDIS_URL);
    closers.push(() => redis.disconnect());
    const producer = createProducer({ connection: redis, config });
    closers.push(() => producer.close());
    const p = observer(config, sim, redis, producer);

    const batch = await producer.enqueueBatch(Array.from({ length: TASKS }, (_, i) => task(i)));
    const status = await waitForBatch(p, batch.batchId);
    expect(status).toMatchObject({ state: 'completed', completed: TASKS, failed: 0 });
    const report = await checkInvariants(p, batch.batchId);
    const items = Array.from({ length: TASKS }, (_, i) => task(i).numberResults).reduce((a, b) => a + b, 0);
    expect(report.objects).toBe(items);

    // Submitted once: the provider accepted each task once and never saw a second submit of it.
    expect(sim.stats().tasksAccepted).toBe(TASKS);
    expect(sim.stats().tasksRejected).toBe(0);
    // Finished once, and both workers took part.
    const completedBy = [workerA, workerB].map(
      (w) => w.logs().filter((l) => l.msg === 'task completed').length,
    );
    expect(completedBy[0]! + completedBy[1]!, `completions per worker: ${completedBy}`).toBe(TASKS);
    for (const n of completedBy) expect(n, `completions per worker: ${completedBy}`).toBeGreaterThan(0);
    // Recorded once across both servers and both workers: every item is "new" exactly once, at a
    // webhook server or through a worker's poll; the other deliveries were recognised as duplicates.
    const [a, b] = await Promise.all([webhookOutcomes(webA), webhookOutcomes(webB)]);
    const polled = [workerA, workerB]
      .flatMap((w) => w.logs())
      .filter((l) => l.msg === 'results recovered by polling')
      .reduce((s, l) => s + Number(l.recovered), 0);
    expect((a.new ?? 0) + (b.new ?? 0) + polled, JSON.stringify({ a, b, polled })).toBe(items);
    expect(a.new, 'server A recorded items').toBeGreaterThan(0);
    expect(b.new, 'server B recorded items').toBeGreaterThan(0);
    expect((a.duplicate ?? 0) + (b.duplicate ?? 0), 'duplicates were recognised').toBeGreaterThan(0);
    const [toA, toB] = proxy.counts();
    expect(toA! + toB!).toBe(sim.stats().webhookAttempts);
  });
});
