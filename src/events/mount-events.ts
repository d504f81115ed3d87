// GET /events: the events stream as server-sent events (`id:` stream id, `event:` type, `data:` the
// RelayEvent as JSON). Resumes after `Last-Event-ID` (or `?from=`), filters by `?batch=` and `?types=`,
// sends a comment every HEARTBEAT_MS so proxies keep the connection, and stops reading when the client goes.
import { once } from 'node:events';
import type { IRouter, Request, Response } from 'express';
import { EventStreamRequestError } from './event-errors.js';
import { isRelayEventType, type RelayEvent, type RelayEventType, STREAM_ID_PATTERN } from './event-types.js';
import type { EventsContext } from './events-context.js';
import { lastEventId, subscribeEvents } from './subscribe-events.js';

/** Comment line interval; below the usual 30–60 s idle timeouts of proxies and load balancers. */
export const HEARTBEAT_MS = 15_000;
/** What a browser's EventSource waits before reconnecting (it then sends Last-Event-ID). */
export const CLIENT_RETRY_MS = 2000;

export interface MountEventsOptions {
  /** Route path (default `/events`). */
  path?: string;
  /** Decide whether this request may read the stream; false answers 401. */
  authorize?: (req: Request) => boolean | Promise<boolean>;
  heartbeatMs?: number;
}

export function mountEvents(
  app: IRouter,
  ctx: Pick<EventsContext, 'redis' | 'tasks' | 'logger'>,
  opts: MountEventsOptions = {},
): void {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  app.get(opts.path ?? '/events', async (req: Request, res: Response) => {
    if (opts.authorize && !(await opts.authorize(req))) {
      throw new EventStreamRequestError('EVENTS_UNAUTHORIZED', 401, 'not allowed to read events');
    }
    const batchId = single(req.query.batch);
    const types = parseTypes(req.query.types);
    // Last-Event-ID (a reconnecting EventSource) wins over ?from: it is the later position.
    const asked = single(req.headers['last-event-id']) || single(req.query.from);
    if (asked && asked !== '$' && !STREAM_ID_PATTERN.test(asked)) {
      throw new EventStreamRequestError('EVENTS_BAD_FROM', 400, `not a stream id: ${asked}`);
    }
    // Fix the position before the first byte goes out: a client that saw the response start
    // misses nothing appended after that.
    const from = !asked || asked === '$' ? await lastEventId(ctx.redis, ctx.tasks.keys) : asked;

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${CLIENT_RETRY_MS}\n: from ${from}\n\n`);
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    try {
      const events = subscribeEvents(ctx.redis, ctx.tasks.keys, {
        from,
        ...(batchId ? { batchId } : {}),
        ...(types ? { types } : {}),
        signal: closed.signal,
      });
      for await (const ev of events) {
        if (!res.write(formatSseEvent(ev))) await once(res, 'drain', { signal: closed.signal });
      }
    } catch (err) {
      if (!closed.signal.aborted) ctx.logger?.warn({ err }, 'events stream ended by an error');
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  });
}

/** One SSE frame. JSON.stringify never emits a raw newline, so `data:` stays one line. */
export function formatSseEvent(ev: RelayEvent): string {
  return `id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;
}

function single(v: unknown): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

function parseTypes(v: unknown): RelayEventType[] | undefined {
  const raw = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
  const names = raw.flatMap((s) => s.split(',').map((x) => x.trim())).filter(Boolean);
  if (names.length === 0) return undefined;
  const unknown = names.filter((n) => !isRelayEventType(n));
  if (unknown.length > 0) {
    throw new EventStreamRequestError(
      'EVENTS_BAD_TYPES',
      400,
      `unknown event type(s): ${unknown.join(', ')}`,
    );
  }
  return names as RelayEventType[];
}
