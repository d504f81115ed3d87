// How the simulator delivers results over real HTTP: sync answers, async acks, one webhook per item
// with retries, getResponse state, uploads after webhooks, exact seeds, images, ttl, idle and admin.
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { type Received, startReceiver } from '../helpers/http-receiver.js';

/** A result item as the tests read it; which output field is set depends on outputType. */
interface Item {
  taskType: string;
  taskUUID: string;
  imageUUID: string;
  imageURL: string;
  imageBase64Data: string;
  imageDataURI: string;
  seed: number;
  status?: string;
  cost?: number;
  NSFWContent?: boolean;
}
interface Body {
  data: Item[];
  errors?: Record<string, unknown>[];
}

const WAIT = { timeout: 10_000, interval: 20 };
const KEY = { authorization: 'Bearer test-key' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(opts: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ latency: { minMs: 5, maxMs: 20 }, ...opts });
  cleanups.push(() => s.close());
  return s;
}
async function receiver(status?: (r: Received, nth: number) => number) {
  const r = await startReceiver(status);
  cleanups.push(r.close);
  return r;
}

function task(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    taskType: 'imageInference',
    taskUUID: randomUUID(),
    model: 'bfl:3@1',
    positivePrompt: 'a lighthouse at dusk',
    width: 1024,
    height: 1024,
    ...extra,
  };
}

async function post(s: Simulator, body: unknown) {
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...KEY },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Body };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('simulator sync delivery', () => {
  it('answers with every item once all are generated, each with its own imageUUID and seed+i', async () => {
    const s = await sim();
    const t = task({ numberResults: 3, seed: 42, includeCost: true });
    const r = await post(s, [t]);
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(3);
    expect(new Set(r.json.data.map((i) => i.imageUUID)).size).toBe(3);
    expect(r.json.data.map((i) => i.seed)).toEqual([42, 43, 44]);
    for (const item of r.json.data) {
      expect(item).toEqual({
        taskType: 'imageInference',
        taskUUID: t.taskUUID,
        imageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        imageURL: `${s.baseUrl}/image/${item.imageUUID}.jpg`,
        seed: expect.any(Number),
        cost: 0.04,
      });
    }
  });

  it('picks a random unsigned 32-bit seed when none is given', async () => {
    const s = await sim();
    const r = await post(s, [task({ numberResults: 2 })]);
    for (const item of r.json.data) {
      expect(Number.isInteger(item.seed)).toBe(true);
      expect(item.seed).toBeGreaterThanOrEqual(0);
      expect(item.seed).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it('reports NSFWContent only when a safety check was asked for', async () => {
    const s = await sim();
    const plain = await post(s, [task()]);
    expect(plain.json.data[0]).not.toHaveProperty('NSFWContent');
    expect(plain.json.data[0]).not.toHaveProperty('cost');
    const checked = await post(s, [task({ safety: { checkContent: true } })]);
    expect(checked.json.data[0]!.NSFWContent).toBe(false);
  });

  it.each([
    ['JPG', 'jpeg', 1568, 672],
    ['PNG', 'png', 832, 1248],
    ['WEBP', 'webp', 1024, 1024],
  ] as const)(
    'serves a real %s of the exact size at imageURL, the same bytes as imageBytes()',
    async (format, sharpFormat, width, height) => {
      const s = await sim();
      const r = await post(s, [
        task({ outputFormat: format, outputQuality: 80, width, height, numberResults: 2 }),
      ]);
      const served: Buffer[] = [];
      for (const item of r.json.data) {
        const res = await fetch(item.imageURL);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain(
          { JPG: 'image/jpeg', PNG: 'image/png', WEBP: 'image/webp' }[format],
        );
        const bytes = Buffer.from(await res.arrayBuffer());
        const meta = await sharp(bytes).metadata();
        expect(meta).toMatchObject({ format: sharpFormat, width, height });
        const pixels = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
        expect(pixels.info).toMatchObject({ width, height });
        expect(sha256(bytes)).toBe(sha256(s.imageBytes(item.imageUUID)!));
        expect(s.results().find((x) => x.imageUUID === item.imageUUID)).toMatchObject({
          sha256: sha256(bytes),
          size: bytes.length,
          format,
        });
        served.push(bytes);
      }
      expect(served[0]!.equals(served[1]!)).toBe(false);
    },
  );

  it.each([
    ['base64Data', (item: Item) => Buffer.from(item.imageBase64Data, 'base64')],
    [
      'dataURI',
      (item: Item) => Buffer.from(item.imageDataURI.replace(/^data:image\/png;base64,/, ''), 'base64'),
    ],
  ] as const)('carries the image inline for outputType %s', async (outputType, decode) => {
    const s = await sim();
    const r = await post(s, [task({ outputType, outputFormat: 'PNG' })]);
    const item = r.json.data[0]!;
    expect(item).not.toHaveProperty('imageURL');
    const bytes = decode(item);
    expect(bytes.equals(s.imageBytes(item.imageUUID)!)).toBe(true);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 });
  });
});

describe('simulator seeds above 2^53', () => {
  it('round-trips seed 9223372036854775807 exactly in the raw request and response text', async () => {
    const s = await sim();
    const raw = `[${JSON.stringify(task()).replace(/}$/, ',"seed":9223372036854775807}')}]`;
    expect(raw).toContain('"seed":9223372036854775807');
    const r = await post(s, raw);
    expect(r.status).toBe(200);
    expect(r.text).toContain('"seed":9223372036854775807');
    expect(s.results().at(-1)!.seed).toBe('9223372036854775807');
  });

  it('adds the item index to a wide seed without losing a digit, in the webhook too', async () => {
    const s = await sim();
    const hook = await receiver();
    const body = JSON.stringify(task({ numberResults: 2, webhookURL: `${hook.url}/hook` })).replace(
      /}$/,
      ',"seed":9007199254740993}',
    );
    await post(s, `[${body}]`);
    await s.idle();
    const texts = hook.posts().map((p) => p.text);
    expect(texts.some((t) => t.includes('"seed":9007199254740993'))).toBe(true);
    expect(texts.some((t) => t.includes('"seed":9007199254740994'))).toBe(true);
  });
});

describe('simulator async delivery and webhooks', () => {
  it('acks at once with one item per task, whatever numberResults is', async () => {
    const s = await sim({ latency: { minMs: 1_000, maxMs: 1_000 } });
    const a = task({ deliveryMethod: 'async', numberResults: 4 });
    const b = task({ deliveryMethod: 'async' });
    const started = Date.now();
    const r = await post(s, [a, b]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      data: [
        { taskType: 'imageInference', taskUUID: a.taskUUID },
        { taskType: 'imageInference', taskUUID: b.taskUUID },
      ],
    });
  });

  it('posts one {data:[item]} webhook per item to the exact URL, query included', async () => {
    const s = await sim();
    const hook = await receiver();
    const t = task({
      numberResults: 3,
      webhookURL: `${hook.url}/runware?token=SECRET&job=12`,
      includeCost: true,
    });
    const ack = await post(s, [t]);
    expect(ack.json.data).toEqual([{ taskType: 'imageInference', taskUUID: t.taskUUID }]);
    await vi.waitFor(() => expect(hook.posts()).toHaveLength(3), WAIT);
    const items = hook.posts().map((p) => {
      expect(p.url).toBe('/runware?token=SECRET&job=12');
      expect(p.headers['content-type']).toBe('application/json');
      const body = JSON.parse(p.text);
      expect(Object.keys(body)).toEqual(['data']);
      expect(body.data).toHaveLength(1);
      return body.data[0];
    });
    const generated = s.results().filter((x) => x.taskUUID === t.taskUUID);
    expect(items.map((i) => i.imageUUID).sort()).toEqual(generated.map((g) => g.imageUUID).sort());
    for (const item of items)
      expect(item).toMatchObject({ taskType: 'imageInference', taskUUID: t.taskUUID, cost: 0.04 });
    await s.idle();
    expect(s.stats()).toMatchObject({ webhooksSent: 3, webhookAttempts: 3, webhookRetries: 0 });
    expect(s.results().every((x) => x.delivered === 'webhook')).toBe(true);
  });

  it('retries a webhook answered 500 until it gets a 2xx', async () => {
    const s = await sim({ webhook: { baseDelayMs: 20, maxDelayMs: 100 } });
    const hook = await receiver((_r, nth) => (nth <= 2 ? 500 : 204));
    await post(s, [task({ webhookURL: `${hook.url}/h` })]);
    await s.idle();
    expect(hook.posts()).toHaveLength(3);
    expect(new Set(hook.posts().map((p) => p.text)).size).toBe(1);
    expect(s.stats()).toMatchObject({
      webhookAttempts: 3,
      webhookRetries: 2,
      webhooksSent: 1,
      webhooksDropped: 0,
    });
  });

  it('gives up after maxAttempts and counts the webhook as dropped', async () => {
    const s = await sim({ webhook: { baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 4 } });
    const hook = await receiver(() => 503);
    await post(s, [task({ webhookURL: `${hook.url}/h` })]);
    await s.idle();
    expect(hook.posts()).toHaveLength(4);
    expect(s.stats()).toMatchObject({
      webhookAttempts: 4,
      webhookRetries: 3,
      webhooksSent: 0,
      webhooksDropped: 1,
    });
    expect(s.results()[0]!.delivered).toBe('none');
  });

  it('retries a webhook the receiver does not answer within timeoutMs', async () => {
    const s = await sim({ webhook: { timeoutMs: 150, baseDelayMs: 10, maxDelayMs: 20 } });
    let calls = 0;
    const slow = createServer((_req, res) => {
      calls++;
      if (calls === 1) return; // hang: the sender must time out and retry
      res.end();
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          slow.closeAllConnections();
          slow.close(() => resolve());
        }),
    );
    await post(s, [task({ webhookURL: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/h` })]);
    await s.idle();
    expect(s.stats()).toMatchObject({ webhookAttempts: 2, webhooksSent: 1 });
  });
});

describe('simulator getResponse', () => {
  it('shows the full current state: finished items as success, the rest as processing', async () => {
    const s = await sim({ latency: { minMs: 400, maxMs: 400 } });
    const t = task({ deliveryMethod: 'async', numberResults: 3 });
    await post(s, [t]);
    const poll = () => post(s, [{ taskType: 'getResponse', taskUUID: t.taskUUID }]);
    const first = await poll();
    expect(first.json.data.map((i) => i.status)).toEqual(['processing', 'processing', 'processing']);
    const partial = await vi.waitFor(async () => {
      const r = await poll();
      expect(r.json.data.map((i) => i.status)).toEqual(['success', 'processing', 'processing']);
      return r;
    }, WAIT);
    expect(partial.status).toBe(200);
    expect(partial.json.data[0]).toMatchObject({
      taskType: 'imageInference',
      taskUUID: t.taskUUID,
      status: 'success',
      imageUUID: expect.any(String),
      imageURL: expect.any(String),
      seed: expect.any(Number),
    });
    expect(partial.json.data[1]).toEqual({
      taskType: 'imageInference',
      taskUUID: t.taskUUID,
      status: 'processing',
    });
    await s.idle();
    const done = await poll();
    expect(done.json.data.map((i) => i.status)).toEqual(['success', 'success', 'success']);
  });

  it('answers several getResponse tasks in one array, and an unknown taskUUID with nothing', async () => {
    const s = await sim();
    const a = task({ deliveryMethod: 'async' });
    const b = task({ deliveryMethod: 'async', numberResults: 2 });
    await post(s, [a, b]);
    await s.idle();
    const r = await post(s, [
      { taskType: 'getResponse', taskUUID: a.taskUUID },
      { taskType: 'getResponse', taskUUID: b.taskUUID },
    ]);
    expect(r.json.data.map((i) => i.taskUUID)).toEqual([a.taskUUID, b.taskUUID, b.taskUUID]);
    const unknown = await post(s, [{ taskType: 'getResponse', taskUUID: randomUUID() }]);
    expect(unknown).toMatchObject({ status: 200, json: { data: [] } });
    expect(s.stats().polls).toBe(3);
  });
});

describe('simulator uploadEndpoint', () => {
  it('PUTs the exact bytes with the image content type after the webhook was sent', async () => {
    const s = await sim();
    const hook = await receiver();
    await post(s, [
      task({
        outputFormat: 'WEBP',
        webhookURL: `${hook.url}/hook`,
        uploadEndpoint: `${hook.url}/bucket/out.webp?X-Sig=1`,
      }),
    ]);
    await s.idle();
    const [webhook] = hook.posts();
    const [put] = hook.puts();
    expect(webhook && put).toBeTruthy();
    expect(hook.received.indexOf(put!)).toBeGreaterThan(hook.received.indexOf(webhook!));
    expect(put!.url).toBe('/bucket/out.webp?X-Sig=1');
    expect(put!.headers['content-type']).toBe('image/webp');
    const imageUUID = JSON.parse(webhook!.text).data[0].imageUUID;
    expect(sha256(put!.body)).toBe(sha256(s.imageBytes(imageUUID)!));
    expect(sha256(put!.body)).toBe(s.results()[0]!.sha256);
    expect(s.stats()).toMatchObject({ uploads: 1, uploadsFailed: 0 });
  });

  it('uploads a sync result with no webhook, and reports it delivered by upload', async () => {
    const s = await sim();
    const bucket = await receiver();
    await post(s, [task({ outputFormat: 'PNG', uploadEndpoint: `${bucket.url}/o.png` })]);
    await s.idle();
    expect(bucket.puts()).toHaveLength(1);
    expect(bucket.puts()[0]!.headers['content-type']).toBe('image/png');
    expect(s.results()[0]!.delivered).toBe('upload');
  });

  it('retries a failed PUT twice, then counts the upload as failed', async () => {
    const s = await sim();
    const flaky = await receiver((_r, nth) => (nth === 1 ? 500 : 200));
    await post(s, [task({ uploadEndpoint: `${flaky.url}/a.jpg` })]);
    await s.idle();
    expect(flaky.puts()).toHaveLength(2);
    expect(s.stats()).toMatchObject({ uploads: 1, uploadsFailed: 0 });

    const broken = await receiver(() => 403);
    await post(s, [task({ uploadEndpoint: `${broken.url}/b.jpg` })]);
    await s.idle();
    expect(broken.puts()).toHaveLength(3);
    expect(s.stats()).toMatchObject({ uploads: 1, uploadsFailed: 1 });
  });
});

describe('simulator image ttl', () => {
  it('stops serving an image after ttl seconds but keeps its bytes for imageBytes()', async () => {
    let now = Date.now();
    const s = await sim({ clock: () => now });
    const r = await post(s, [task({ ttl: 60 })]);
    const { imageURL, imageUUID } = r.json.data[0]!;
    expect((await fetch(imageURL)).status).toBe(200);
    now += 59_000;
    expect((await fetch(imageURL)).status).toBe(200);
    now += 1_000;
    expect((await fetch(imageURL)).status).toBe(404);
    expect(s.imageBytes(imageUUID)).toBeInstanceOf(Buffer);
  });

  it('answers an unknown image or a wrong extension with 404', async () => {
    const s = await sim();
    const r = await post(s, [task({ outputFormat: 'PNG' })]);
    const url: string = r.json.data[0]!.imageURL;
    expect((await fetch(url.replace(/\.png$/, '.jpg'))).status).toBe(404);
    expect((await fetch(`${s.baseUrl}/image/${randomUUID()}.png`)).status).toBe(404);
  });
});

describe('simulator idle() and close()', () => {
  it('resolves idle() at once when nothing is pending', async () => {
    const s = await sim();
    await expect(s.idle()).resolves.toBeUndefined();
  });

  it('resolves idle() only once every item is generated and every webhook delivered, retries included', async () => {
    const s = await sim({ webhook: { baseDelayMs: 100, maxDelayMs: 100 } });
    const hook = await receiver((_r, nth) => (nth === 1 ? 500 : 200));
    await post(s, [task({ numberResults: 2, webhookURL: `${hook.url}/h` })]);
    await s.idle();
    expect(s.stats()).toMatchObject({ itemsGenerated: 2, webhooksSent: 2, webhookRetries: 1 });
    expect(hook.posts()).toHaveLength(3);
  });

  it('closes promptly while a webhook is still being retried', async () => {
    const s = await startSimulator({ latency: { minMs: 1, maxMs: 1 }, webhook: { baseDelayMs: 5_000 } });
    const hook = await receiver(() => 500);
    await post(s, [task({ webhookURL: `${hook.url}/h` })]);
    await vi.waitFor(() => expect(hook.posts()).toHaveLength(1), WAIT);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('simulator admin routes', () => {
  it('serves stats, results and image bytes, sets faults and latency, and waits for idle over HTTP', async () => {
    const s = await sim();
    const r = await post(s, [task({ outputFormat: 'PNG' })]);
    const imageUUID = r.json.data[0]!.imageUUID;
    const stats = await (await fetch(`${s.baseUrl}/__sim/stats`)).json();
    expect(stats).toMatchObject({ requests: 1, tasksAccepted: 1, itemsGenerated: 1 });
    const results = await (await fetch(`${s.baseUrl}/__sim/results`)).json();
    expect(results).toEqual(s.results());
    const img = await fetch(`${s.baseUrl}/__sim/images/${imageUUID}`);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await img.arrayBuffer()).equals(s.imageBytes(imageUUID)!)).toBe(true);

    const set = await fetch(`${s.baseUrl}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ submit429: 1, latency: { minMs: 1, maxMs: 2 } }),
    });
    expect(set.status).toBe(200);
    expect((await post(s, [task()])).status).toBe(429);
    const bad = await fetch(`${s.baseUrl}/__sim/faults`, { method: 'POST', body: '{"submit429": 2}' });
    expect(bad.status).toBe(400);
    const idle = await fetch(`${s.baseUrl}/__sim/idle`, { method: 'POST' });
    expect(await idle.json()).toEqual({ idle: true });
  });
});
