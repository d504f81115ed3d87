// Rotating EVENTS_WEBHOOK_SECRET without breaking receivers: during the overlap every delivery carries a
// `v1,` signature per secret, so a receiver that still verifies only the old secret and one that already
// verifies only the new secret (both with the `standardwebhooks` library) accept every delivery.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { dispatcherOptionsFromConfig } from '../../src/events/outgoing/dispatcher-options.js';
import {
  type EventDispatcher,
  startEventDispatcher,
} from '../../src/events/outgoing/start-event-dispatcher.js';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';
import { type Received, startReceiver } from '../helpers/http-receiver.js';
import { until } from '../helpers/relay-observer.js';

const WAIT_MS = 15_000;
const EVENTS = 12;
const FAST = {
  pollIntervalMs: 20,
  blockMs: 100,
  retry: { initialDelayMs: 20, maxDelayMs: 100, maxAgeMs: 10_000 },
};
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Whether `standardwebhooks`, holding only `secret`, accepts the delivery. */
function verifies(secret: string, r: Received): boolean {
  try {
    new Webhook(secret).verify(r.text, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

/** A receiver holding one secret: 204 when the delivery verifies with it, 401 otherwise. */
function receiverWith(secret: string) {
  return startReceiver((r) => (verifies(secret, r) ? 204 : 401));
}

let redis: Redis;
let tasks: TaskStore;
let batches: BatchStore;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(() => {
  redis = new Redis(testRedisUrl());
  tasks = new TaskStore(redis, `kr-${uniqueId()}`, 'q');
  batches = new BatchStore(redis, tasks.keys);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  redis.disconnect();
});

async function dispatchTo(url: string, env: Record<string, string>): Promise<EventDispatcher> {
  const opts = dispatcherOptionsFromConfig(loadConfig({ ...env, EVENTS_WEBHOOK_URL: url }));
  const d = await startEventDispatcher({ redis, tasks, batches }, { ...opts, ...FAST });
  cleanups.push(() => d.stop());
  return d;
}

/** A batch whose callback URL is `url`: its n task events and batch.completed go there too. */
async function endBatch(n: number, url: string): Promise<void> {
  const batchId = uniqueId('b');
  await batches.open({ batchId, callbackUrl: url });
  const uuids = Array.from({ length: n }, () => crypto.randomUUID());
  await batches.addTasks(
    batchId,
    uuids.map((taskUUID, index) => ({ index, taskUUID })),
  );
  await batches.seal(batchId);
  for (const id of uuids) await tasks.finish(id, batchId, 'completed', '', 0.04, []);
}

describe('EVENTS_WEBHOOK_SECRET rotation', () => {
  it('receivers on the old secret and on the new one both accept every delivery during the overlap', async () => {
    const [oldSecret, newSecret] = [whsec(), whsec()];
    const onOld = await receiverWith(oldSecret);
    const onNew = await receiverWith(newSecret);
    cleanups.push(onOld.close, onNew.close);
    const env = { EVENTS_WEBHOOK_SECRET: newSecret, EVENTS_WEBHOOK_SECRET_PREVIOUS: oldSecret };
    // One dispatcher: the service-wide URL is the old-secret receiver, the batch's callback the new one.
    await dispatchTo(onOld.url, env);
    await endBatch(EVENTS, onNew.url);
    const expected = EVENTS + 1; // the tasks and batch.completed
    await until(
      () => onOld.posts().length >= expected && onNew.posts().length >= expected,
      WAIT_MS,
      'deliveries',
    );
    for (const [r, secret] of [
      [onOld, oldSecret],
      [onNew, newSecret],
    ] as const) {
      expect(r.posts().map((p) => p.headers['webhook-signature']?.toString().split(' ').length)).toEqual(
        Array(expected).fill(2),
      );
      expect(r.posts().every((p) => verifies(secret, p))).toBe(true);
    }
    // Every first attempt was accepted (204): nothing was refused and retried.
    expect(onOld.posts()).toHaveLength(expected);
    expect(onNew.posts()).toHaveLength(expected);
  });

  it('without the previous secret, a receiver still on the old one refuses (what the overlap prevents)', async () => {
    const [oldSecret, newSecret] = [whsec(), whsec()];
    const onOld = await receiverWith(oldSecret);
    cleanups.push(onOld.close);
    await dispatchTo(onOld.url, { EVENTS_WEBHOOK_SECRET: newSecret });
    await endBatch(1, onOld.url);
    await until(() => onOld.posts().length >= 1, WAIT_MS, 'a delivery attempt');
    expect(onOld.posts()[0]!.headers['webhook-signature']?.toString().split(' ')).toHaveLength(1);
    expect(verifies(oldSecret, onOld.posts()[0]!)).toBe(false);
    expect(verifies(newSecret, onOld.posts()[0]!)).toBe(true);
  });
});
