// A receiver goes down during a real batch: the delivery log records every failed attempt, the endpoint
// is disabled after failing too often in a row (endpoint.disabled event), what it missed is dead-lettered.
// Brought back, re-enabled and replayed from a cursor with `kontext-relay events replay`, the receiver
// ends with exactly one copy of every event, each verified with the standardwebhooks package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventKeys } from '../../src/events/event-keys.js';
import { ATTEMPTS_KEPT, DeliveryLog, LOG_TTL_SEC } from '../../src/events/outgoing/delivery-log.js';
import { DeliveryStore } from '../../src/events/outgoing/delivery-store.js';
import {
  type EventDispatcher,
  startEventDispatcher,
} from '../../src/events/outgoing/start-event-dispatcher.js';
import { webhookId } from '../../src/events/outgoing/webhook-body.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { startVerifyingReceiver, type VerifyingReceiver } from '../helpers/webhook-receiver.js';

const SECRET = `whsec_${Buffer.from('replay test secret, thirty-two B').toString('base64')}`;
const WAIT_MS = 30_000;
const DISABLE_AFTER = 3;

let p: Pipeline;
let receiver: VerifyingReceiver;
let dispatcher: EventDispatcher;

beforeAll(async () => {
  receiver = await startVerifyingReceiver(SECRET);
  p = await startPipeline({ sim: { latency: { minMs: 150, maxMs: 300 } } });
  dispatcher = await startEventDispatcher(p.svc, {
    url: receiver.url,
    secret: SECRET,
    retry: { initialDelayMs: 200, maxDelayMs: 1_000, maxAgeMs: 60_000 },
    pollIntervalMs: 50,
    blockMs: 100,
    disableAfter: DISABLE_AFTER,
    startFrom: '0',
  });
});

afterAll(async () => {
  await dispatcher?.stop();
  await p?.close();
  await receiver?.down().catch(() => undefined);
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The real CLI, as an operator runs it, on the pipeline's Redis and prefix. */
async function cli(args: string[]) {
  const r = await runCli(args, {
    REDIS_URL: p.config.REDIS_URL,
    QUEUE_PREFIX: p.config.QUEUE_PREFIX,
    QUEUE_NAME: p.config.QUEUE_NAME,
    EVENTS_WEBHOOK_URL: receiver.url,
    EVENTS_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: 'silent',
  });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('delivery log storage', () => {
  it('keeps about ATTEMPTS_KEPT attempts per endpoint and expires an idle endpoint after LOG_TTL_SEC', async () => {
    const keys = new EventKeys(p.svc.tasks.keys);
    const log = new DeliveryLog(p.redis, keys, p.svc.tasks.keys.events(), 1_000_000);
    const url = 'http://127.0.0.1:9/bounded';
    for (let i = 0; i < ATTEMPTS_KEPT + 500; i++) {
      await log.record(url, {
        webhookId: `w${i}`,
        eventId: `${i}-0`,
        type: 'task.completed',
        attempt: 1,
        ok: false,
        status: 500,
        latencyMs: 1,
        error: 'HTTP 500',
      });
    }
    const attemptKeys = await p.redis.keys(`${keys.base}event-attempts:*`);
    const lengths = await Promise.all(attemptKeys.map((k) => p.redis.xlen(k)));
    const ttls = await Promise.all(attemptKeys.map((k) => p.redis.ttl(k)));
    expect(Math.max(...lengths)).toBeLessThan(ATTEMPTS_KEPT + 200); // MAXLEN ~ trims whole nodes
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(ATTEMPTS_KEPT);
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(LOG_TTL_SEC - 60);
    expect((await log.health(url))?.failed).toBe(ATTEMPTS_KEPT + 500);
  });
});

describe('delivery log and replay', () => {
  it('a receiver down during a batch catches up by replay with exactly one verified copy of every event', async () => {
    const cursor = new Date().toISOString();
    const tasks = Array.from({ length: 8 }, (_, i) => ({
      positivePrompt: `outage ${i}`,
      width: 1024,
      height: 1024,
    }));
    const batch = await p.producer.enqueueBatch(tasks);
    await until('a first event delivered', () => receiver.kept.size >= 1);
    await receiver.down();
    await waitForBatch(p, batch.batchId);

    const keys = new EventKeys(p.svc.tasks.keys);
    const log = new DeliveryLog(p.redis, keys, p.svc.tasks.keys.events());
    await until('the endpoint disabled', () => log.isDisabled(receiver.url));
    const events = async () =>
      ((await p.redis.xrange(p.svc.tasks.keys.events(), '-', '+')) as [string, string[]][]).map(
        ([id, f]) => ({
          id,
          type: f[f.indexOf('type') + 1],
        }),
      );
    await until('the endpoint.disabled event', async () =>
      (await events()).some((e) => e.type === 'endpoint.disabled'),
    );
    const store = new DeliveryStore(p.redis, keys, p.svc.tasks.keys.events());
    await until(
      'nothing pending (sent, or dead-lettered as disabled)',
      async () => (await store.pending()) === 0,
    );

    const health = await log.health(receiver.url);
    expect(health?.disabledAt).not.toBeNull();
    expect(health?.consecutiveFailures).toBeGreaterThanOrEqual(DISABLE_AFTER);
    const attempts = await log.attempts(receiver.url, 1000);
    expect(attempts.some((a) => a.ok && a.status === 200 && a.latencyMs >= 0)).toBe(true);
    expect(attempts.some((a) => !a.ok && a.status === null && a.error !== '')).toBe(true);
    const dead = (await store.dead()).filter((d) => d.url === receiver.url);
    expect(dead.length).toBeGreaterThan(0);
    expect(receiver.kept.size).toBeLessThan((await events()).length);

    // A replay to a disabled endpoint is refused; re-enabled, it goes through.
    await receiver.up();
    const refused = await cli(['events', 'replay', '--endpoint', receiver.url, '--from', cursor]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('disabled');
    const enabled = await cli(['events', 'enable', '--endpoint', receiver.url]);
    expect(enabled.code, enabled.err).toBe(0);
    const replayed = await cli(['events', 'replay', '--endpoint', receiver.url, '--from', cursor, '--json']);
    expect(replayed.code, replayed.err).toBe(0);
    expect(JSON.parse(replayed.out).scheduled).toBeGreaterThan(0);

    const all = await events();
    await until('every event at the receiver', () => receiver.kept.size >= all.length);
    await until('nothing pending', async () => (await store.pending()) === 0);
    // Exactly one copy of every event, under the webhook-id the first attempt had.
    expect(new Set(receiver.kept.keys())).toEqual(new Set(all.map((e) => webhookId(e.id, receiver.url))));
    expect([...receiver.kept.values()].map((k) => k.body.data.eventId).sort()).toEqual(
      all.map((e) => e.id).sort(),
    );
    expect(receiver.invalid).toBe(0);
    // Replaying the same range again sends the same ids: the receiver keeps no second copy.
    const again = await cli(['events', 'replay', '--endpoint', receiver.url, '--from', all[0]!.id, '--json']);
    expect(JSON.parse(again.out).scheduled).toBe(all.length);
    await until('the second replay delivered', async () => (await store.pending()) === 0);
    await until('duplicates seen', () => receiver.duplicates >= all.length);
    // One copy of each event in the stream, the second replay's own audit entry (operator.action) included.
    const after = await events();
    expect(after.at(-1)?.type).toBe('operator.action');
    expect(receiver.kept.size).toBe(after.length);
    expect((await log.health(receiver.url))?.disabledAt).toBeNull();
  });
});
