// Outgoing event webhooks against real HTTP receivers that verify with the standardwebhooks library
// itself: retries keep the webhook-id, batch callbacks, restarts lose and double nothing, a receiver that
// was down gets everything later, and a delivery past its retry window is kept as dead.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventKeys } from '../../src/events/event-keys.js';
import {
  type EventDispatcher,
  type EventDispatcherOptions,
  startEventDispatcher,
} from '../../src/events/outgoing/start-event-dispatcher.js';
import type { EventWebhookBody } from '../../src/events/outgoing/webhook-body.js';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

const SECRET = `whsec_${Buffer.from('events webhook test secret, 32 B').toString('base64')}`;
const FAST: EventDispatcherOptions = {
  secret: SECRET,
  retry: { initialDelayMs: 20, maxDelayMs: 100, maxAgeMs: 10_000 },
  pollIntervalMs: 20,
  blockMs: 100,
  claimIdleMs: 200,
  requestTimeoutMs: 2000,
};
const WAIT_MS = 15_000;

interface Hit {
  id: string;
  status: number;
  verified: boolean;
  body: EventWebhookBody;
  raw: string;
}

interface Receiver {
  url: string;
  hits: Hit[];
  /** Ids answered 2xx, in order (a repeat would show up twice). */
  delivered(): string[];
  close(): Promise<void>;
  /** Listen again on the same port. */
  reopen(): Promise<void>;
}

/** A receiver that verifies with `standardwebhooks` and answers `answer(webhookId, attempt)`. */
async function startReceiver(answer: (id: string, attempt: number) => number = () => 200): Promise<Receiver> {
  const hits: Hit[] = [];
  const attempts = new Map<string, number>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      let verified = true;
      try {
        new Webhook(SECRET).verify(raw, headersOf(req.headers));
      } catch {
        verified = false;
      }
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const status = verified ? answer(id, n) : 401;
      hits.push({ id, status, verified, body: JSON.parse(raw), raw });
      res.writeHead(status).end();
    });
  };
  let server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    delivered: () => hits.filter((h) => h.status < 300).map((h) => h.id),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
    async reopen() {
      server = createServer(handler);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
  };
}

function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let redis: Redis;
let tasks: TaskStore;
let batches: BatchStore;
let keys: EventKeys;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(() => {
  redis = new Redis(testRedisUrl());
  tasks = new TaskStore(redis, `kr-${uniqueId()}`, 'q');
  batches = new BatchStore(redis, tasks.keys);
  keys = new EventKeys(tasks.keys);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  redis.disconnect();
});

async function dispatcher(opts: EventDispatcherOptions): Promise<EventDispatcher> {
  const d = await startEventDispatcher({ redis, tasks, batches }, opts);
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await d.stop();
  });
  return {
    stop: async () => {
      stopped = true;
      await d.stop();
    },
  };
}

async function receiver(answer?: (id: string, attempt: number) => number) {
  const r = await startReceiver(answer);
  cleanups.push(() => r.close().catch(() => undefined));
  return r;
}

/** Ends `n` tasks outside any batch (each appends a task.completed event). */
async function endTasks(n: number, batchId?: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    await tasks.finish(id, batchId, 'completed', '', 0.04, []);
    ids.push(id);
  }
  return ids;
}

const pending = () => redis.zcard(keys.deliveriesDue());

describe('outgoing event webhooks', () => {
  it('a delivery answered 500 twice then 200 is retried with the same webhook-id, verifying each time', async () => {
    const r = await receiver((_, attempt) => (attempt <= 2 ? 500 : 200));
    await dispatcher({ ...FAST, url: r.url });
    const [taskUUID] = await endTasks(1);
    await until('the delivery', () => r.delivered().length === 1);
    expect(r.hits.map((h) => h.status)).toEqual([500, 500, 200]);
    expect(new Set(r.hits.map((h) => h.id)).size).toBe(1);
    expect(r.hits.every((h) => h.verified)).toBe(true);
    expect(new Set(r.hits.map((h) => h.raw)).size).toBe(1);
    expect(r.hits[0]!.body).toMatchObject({ type: 'task.completed', data: { taskUUID, cost: 0.04 } });
    await until('nothing pending', async () => (await pending()) === 0);
  });

  it('a batch callback URL gets that batch’s events; the service URL gets every event', async () => {
    const service = await receiver();
    const callback = await receiver();
    await dispatcher({ ...FAST, url: service.url });
    const batchId = uniqueId('b');
    await batches.open({ batchId, callbackUrl: callback.url });
    const uuids = [crypto.randomUUID(), crypto.randomUUID()];
    await batches.addTasks(
      batchId,
      uuids.map((taskUUID, index) => ({ index, taskUUID })),
    );
    await batches.seal(batchId);
    for (const id of uuids) await tasks.finish(id, batchId, 'completed', '', 0.04, []);
    await endTasks(1);
    await until(
      'all deliveries',
      () => service.delivered().length === 4 && callback.delivered().length === 3,
    );
    expect(callback.hits.map((h) => h.body.type)).toEqual([
      'task.completed',
      'task.completed',
      'batch.completed',
    ]);
    expect(callback.hits.every((h) => h.verified && h.body.data.batchId === batchId)).toBe(true);
    expect(callback.hits.at(-1)!.body.data).toMatchObject({
      total: 2,
      completed: 2,
      cost: expect.closeTo(0.08, 6),
    });
    // One event, two targets: two ids, so each receiver deduplicates on its own.
    const firstEvent = callback.hits[0]!.body.data.eventId;
    const serviceHit = service.hits.find((h) => h.body.data.eventId === firstEvent);
    expect(serviceHit?.id).toBeDefined();
    expect(serviceHit?.id).not.toBe(callback.hits[0]!.id);
  });

  it('without a secret, batch callbacks are not sent and the warning is logged once', async () => {
    const callback = await receiver();
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    await dispatcher({ ...FAST, secret: undefined, logger });
    const batchId = uniqueId('b');
    await batches.open({ batchId, callbackUrl: callback.url });
    await endTasks(3, batchId);
    await until('the events consumed', async () => {
      const groups = (await redis.xinfo('GROUPS', tasks.keys.events())) as unknown[][];
      return groups.some((g) => g.includes('entries-read') && g[g.indexOf('entries-read') + 1] === 3);
    });
    expect(callback.hits).toEqual([]);
    expect(lines.filter((l) => l.includes('EVENTS_WEBHOOK_SECRET'))).toHaveLength(1);
  });

  it('stopping mid-way and starting again, or another dispatcher reclaiming, loses and doubles nothing', async () => {
    const r = await receiver();
    const first = await dispatcher({ ...FAST, url: r.url, consumer: 'one' });
    await endTasks(10);
    await until('some deliveries', () => r.delivered().length >= 3);
    await first.stop();
    await endTasks(10);
    // A dispatcher that died after reading entries but before acknowledging them.
    await redis.xreadgroup(
      'GROUP',
      'event-webhooks',
      'crashed',
      'COUNT',
      4,
      'STREAMS',
      tasks.keys.events(),
      '>',
    );
    await dispatcher({ ...FAST, url: r.url, consumer: 'two' });
    await until('all 20 deliveries', () => new Set(r.delivered()).size === 20);
    expect(r.delivered()).toHaveLength(20);
    await until('nothing pending', async () => (await pending()) === 0);
  });

  it('a receiver that is down for a while gets every event once it is back', async () => {
    const r = await receiver();
    await r.close();
    await dispatcher({ ...FAST, url: r.url });
    await endTasks(5);
    await until('failed attempts', async () => {
      const rows = Object.values(await redis.hgetall(keys.deliveries())).map((j) => JSON.parse(j));
      return (
        rows.length === 5 && rows.every((d) => d.attempts >= 2 && /ECONNREFUSED|connect/i.test(d.lastError))
      );
    });
    await r.reopen();
    await until('all 5 deliveries', () => r.delivered().length === 5);
    expect(new Set(r.delivered()).size).toBe(5);
  });

  it('a delivery still failing when its retry window ends is given up and kept in the dead list', async () => {
    const r = await receiver(() => 503);
    await dispatcher({ ...FAST, url: r.url, retry: { initialDelayMs: 20, maxDelayMs: 40, maxAgeMs: 200 } });
    await endTasks(1);
    await until('given up', async () => (await redis.llen(keys.deadDeliveries())) === 1);
    const [dead] = (await redis.lrange(keys.deadDeliveries(), 0, 0)).map((j) => JSON.parse(j));
    expect(dead).toMatchObject({ url: r.url, lastError: 'HTTP 503', type: 'task.completed' });
    expect(dead.attempts).toBe(r.hits.length);
    expect(await pending()).toBe(0);
  });
});

describe('outgoing event webhooks on a real pipeline', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('a batch enqueued with a callbackUrl gets each task’s and the batch’s event, verified', async () => {
    p = await startPipeline();
    const r = await startReceiver();
    const d = await startEventDispatcher(p.svc, { ...FAST });
    try {
      const b = await p.producer.enqueueBatch(
        [1, 2, 3].map((i) => ({ positivePrompt: `hooked ${i}`, width: 1024, height: 1024 })),
        { callbackUrl: r.url },
      );
      await until('the batch.completed webhook', () => r.hits.some((h) => h.body.type === 'batch.completed'));
      expect(r.hits.map((h) => h.body.type).sort()).toEqual([
        'batch.completed',
        'task.completed',
        'task.completed',
        'task.completed',
      ]);
      expect(r.hits.every((h) => h.verified && h.body.data.batchId === b.batchId)).toBe(true);
    } finally {
      await d.stop();
      await r.close();
    }
  });
});
