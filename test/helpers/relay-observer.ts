// The test's own view of a relay that runs in other processes: its own Redis connection, queue, task
// and batch stores, object store and producer, all from the relay's environment. Reads, and enqueues.
import { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import { createProducer, type Producer } from '../../src/producer/create-producer.js';
import { type BatchStatus, readBatchStatus } from '../../src/status/read-status.js';
import { ObjectStore } from '../../src/storage/object-store.js';
import { closeRelayState, openRelayState, type RelayState } from '../../src/tasks/relay-state.js';

const POLL_MS = 100;

export interface RelayObserver extends RelayState {
  config: Config;
  redis: Redis;
  store: ObjectStore;
  producer: Producer;
  close(): Promise<void>;
}

export function openObserver(env: Record<string, string>): RelayObserver {
  const config = loadConfig(env);
  // No per-command retry limit: a Redis restart in a chaos run must delay our reads, not fail them.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const state = openRelayState(config, redis);
  const producer = createProducer({ connection: redis, config });
  // Without listeners BullMQ prints every connection error of an outage to stderr.
  state.queue.on('error', () => {});
  producer.queue.on('error', () => {});
  const store = ObjectStore.fromConfig(config);
  return {
    ...state,
    config,
    redis,
    store,
    producer,
    async close() {
      await producer.close();
      await closeRelayState(state);
      store.destroy();
      redis.disconnect();
    },
  };
}

export function ended(s: BatchStatus | null): number {
  return s ? s.completed + s.failed + s.cancelled : 0;
}

export function isFinished(s: BatchStatus | null): boolean {
  return s !== null && s.state !== 'running' && s.state !== 'enqueuing';
}

/** Poll until `pred` holds for the batch's status; the error says where the batch stood. */
export async function waitForBatchStatus(
  obs: RelayObserver,
  batchId: string,
  pred: (s: BatchStatus) => boolean,
  timeoutMs: number,
  what = 'the condition',
): Promise<BatchStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await readBatchStatus(obs, batchId);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) {
      const counts = await obs.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      throw new Error(
        `batch ${batchId}: ${what} not reached in ${timeoutMs} ms; status ${JSON.stringify(s)}; jobs ${JSON.stringify(counts)}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function waitForBatchEnd(
  obs: RelayObserver,
  batchId: string,
  timeoutMs: number,
): Promise<BatchStatus> {
  return waitForBatchStatus(obs, batchId, isFinished, timeoutMs, 'the end of the batch');
}

/** Poll `check` until it holds or the deadline passes (then throw, naming `what`). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
