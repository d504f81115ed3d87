// GET /events over real HTTP on a real pipeline: frames carry the stream id and type, Last-Event-ID
// resumes after an id, ?batch= filters, bad requests and refused callers get their status.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayEvent } from '../../src/events/event-types.js';
import { mountEvents } from '../../src/events/mount-events.js';
import { errorToHttp } from '../../src/http/error-to-http.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

const task = (i: number) => ({ positivePrompt: `sse prompt ${i}`, width: 1024, height: 1024 });
const WAIT_MS = 20_000;

let p: Pipeline;
let server: Server;
let base: string;
let tracked: Redis;
const duplicates: Redis[] = [];
beforeAll(async () => {
  p = await startPipeline();
  const app = express();
  mountEvents(app, p.svc, { authorize: (req) => req.headers.authorization !== 'Bearer wrong' });
  // A route on a connection whose duplicates we can watch: each stream reads on its own duplicate.
  tracked = new Redis(p.config.REDIS_URL, { maxRetriesPerRequest: null });
  const duplicate = tracked.duplicate.bind(tracked);
  tracked.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
    const c = duplicate(...args);
    duplicates.push(c);
    return c;
  }) as Redis['duplicate'];
  mountEvents(app, { ...p.svc, redis: tracked }, { path: '/events-fast', heartbeatMs: 50 });
  app.use(errorToHttp());
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  tracked.disconnect();
  await p.close();
});

interface Frame {
  id: string;
  event: string;
  data: RelayEvent;
}

/**
 * Opens the stream and reads frames until `until` says stop; `onOpen` runs once the response started
 * (the server has fixed its position by then). Comments and `retry:` lines are skipped.
 */
async function readFrames(
  path: string,
  until: (f: Frame, all: Frame[]) => boolean,
  opts: { headers?: Record<string, string>; onOpen?: () => Promise<unknown> } = {},
): Promise<Frame[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), WAIT_MS);
  const res = await request(`${base}${path}`, { headers: opts.headers ?? {}, signal: ac.signal });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
  const frames: Frame[] = [];
  let buf = '';
  let opened = false;
  try {
    for await (const chunk of res.body) {
      buf += chunk.toString();
      if (!opened) {
        opened = true;
        await opts.onOpen?.();
      }
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':') && l.includes(': '))
            .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
        );
        if (!fields.data) continue;
        frames.push({ id: fields.id ?? '', event: fields.event ?? '', data: JSON.parse(fields.data) });
        if (until(frames.at(-1)!, frames)) return frames;
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new Error(`stream ended after ${frames.length} frames`);
}

const batchDone = (f: Frame) => f.event === 'batch.completed';

describe('GET /events', () => {
  it('streams events live with stream ids and types; ?batch= keeps one batch', async () => {
    const other = await p.producer.enqueueBatch([task(0)]);
    let batchId = '';
    const all = await readFrames('/events', (f) => batchDone(f) && f.data.batchId === batchId, {
      onOpen: async () => {
        batchId = (await p.producer.enqueueBatch([task(1), task(2)])).batchId;
      },
    });
    const mine = all.filter((f) => f.data.batchId === batchId);
    expect(mine.map((f) => f.event)).toEqual(['task.completed', 'task.completed', 'batch.completed']);
    for (const f of mine) expect(f.data).toMatchObject({ id: f.id, type: f.event });

    const filtered = await readFrames(`/events?batch=${batchId}&from=0`, batchDone);
    expect(filtered.map((f) => f.id)).toEqual(mine.map((f) => f.id));
    const otherOnly = await readFrames(
      `/events?batch=${other.batchId}&from=0&types=batch.completed`,
      () => true,
    );
    expect(otherOnly.map((f) => [f.event, f.data.batchId])).toEqual([['batch.completed', other.batchId]]);
  });

  it('a reconnect with Last-Event-ID gets exactly the events after that id', async () => {
    const { batchId } = await p.producer.enqueueBatch([task(3), task(4), task(5)]);
    const all = await readFrames(`/events?batch=${batchId}&from=0`, batchDone);
    expect(all).toHaveLength(4);
    // The header wins over ?from=0 (a reconnecting EventSource keeps its original URL).
    const resumed = await readFrames(`/events?batch=${batchId}&from=0`, batchDone, {
      headers: { 'last-event-id': all[1]!.id },
    });
    expect(resumed.map((f) => f.id)).toEqual(all.slice(2).map((f) => f.id));
  });

  it('sends heartbeats, and a client that leaves releases its Redis connection', async () => {
    const ac = new AbortController();
    const res = await request(`${base}/events-fast`, { signal: ac.signal });
    const chunks = res.body[Symbol.asyncIterator]();
    let text = '';
    while (!text.includes(': heartbeat')) text += String((await chunks.next()).value);
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0]!.status).not.toBe('end');
    ac.abort();
    const deadline = Date.now() + 5000;
    while (duplicates[0]!.status !== 'end' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(duplicates[0]!.status).toBe('end');
  });

  it('refuses unknown types, a malformed id and a caller the authorize hook rejects', async () => {
    const status = async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${base}${path}`, { headers });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await status('/events?types=task.completed,task.exploded')).toBe(400);
    expect(await status('/events?from=yesterday')).toBe(400);
    expect(await status('/events', { 'last-event-id': '12-x' })).toBe(400);
    expect(await status('/events', { authorization: 'Bearer wrong' })).toBe(401);
  });
});
