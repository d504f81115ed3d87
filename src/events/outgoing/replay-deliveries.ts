// Replay: schedule again, for one endpoint, every event from a cursor (an event id or a time) that was
// addressed to it — the service URL gets every event, a batch's callbackUrl its batch's. Each replayed
// delivery carries the ORIGINAL webhook-id (webhookId(eventId, url) is deterministic), so a receiver
// that deduplicates by webhook-id keeps one copy. The running dispatcher sends them; a delivery still
// pending for the same event and endpoint is left as it is. Only what the events stream still holds
// (EVENTS_STREAM_MAX_LEN) can be replayed.
import { RelayError } from '../../errors.js';
import type { RedisClient } from '../../tasks/task-store.js';
import type { EventKeys } from '../event-keys.js';
import { parseStreamEntry, STREAM_ID_PATTERN } from '../event-types.js';
import type { Delivery } from './delivery-store.js';
import type { DispatcherContext } from './dispatcher-options.js';
import { webhookBody, webhookId } from './webhook-body.js';

const PAGE = 500;

export interface ReplayOptions {
  /** The endpoint to send to. */
  url: string;
  /** An event id (inclusive), or a time: ISO 8601 or ms since the epoch. */
  from: string;
  /** The service-wide target (EVENTS_WEBHOOK_URL), which receives every event. */
  serviceUrl: string | undefined;
  now?: number;
}

export interface ReplayOutcome {
  /** Deliveries scheduled again. */
  scheduled: number;
  /** Events for this endpoint that already had a delivery pending. */
  alreadyPending: number;
  /** The first stream id read (the cursor as resolved). */
  fromId: string;
}

/** A cursor as a stream id: an event id as it is, a time as `<ms>-0`. */
export function replayCursor(from: string): string {
  if (STREAM_ID_PATTERN.test(from) && from.includes('-')) return from;
  const ms = /^\d+$/.test(from) ? Number(from) : Date.parse(from);
  if (!Number.isFinite(ms))
    throw new RelayError(
      'BAD_REPLAY_CURSOR',
      `--from must be an event id (<ms>-<seq>) or a time, got "${from}"`,
    );
  return `${ms}-0`;
}

export async function replayDeliveries(
  ctx: Pick<DispatcherContext, 'redis' | 'tasks' | 'batches'>,
  keys: EventKeys,
  opts: ReplayOptions,
): Promise<ReplayOutcome> {
  const fromId = replayCursor(opts.from);
  const out: ReplayOutcome = { scheduled: 0, alreadyPending: 0, fromId };
  const callbackOf = new Map<string, string | undefined>();
  const now = opts.now ?? Date.now();
  let start = fromId;
  for (;;) {
    const rows = (await ctx.redis.xrange(ctx.tasks.keys.events(), start, '+', 'COUNT', PAGE)) as [
      string,
      string[],
    ][];
    for (const [id, fields] of rows) {
      const ev = parseStreamEntry(id, fields);
      if (!ev) continue;
      let addressed = opts.serviceUrl === opts.url;
      if (!addressed && ev.batchId) {
        if (!callbackOf.has(ev.batchId))
          callbackOf.set(ev.batchId, (await ctx.batches.get(ev.batchId))?.callbackUrl);
        addressed = callbackOf.get(ev.batchId) === opts.url;
      }
      if (!addressed) continue;
      const d: Delivery = {
        id: webhookId(ev.id, opts.url),
        url: opts.url,
        eventId: ev.id,
        type: ev.type,
        body: JSON.stringify(webhookBody(ev)),
        attempts: 0,
        firstAt: now,
      };
      if (await schedule(ctx.redis, keys, d, now)) out.scheduled++;
      else out.alreadyPending++;
    }
    if (rows.length < PAGE) return out;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}

async function schedule(redis: RedisClient, keys: EventKeys, d: Delivery, at: number): Promise<boolean> {
  const multi = redis.multi();
  multi.hsetnx(keys.deliveries(), d.id, JSON.stringify(d));
  multi.zadd(keys.deliveriesDue(), 'NX', at, d.id);
  const res = await multi.exec();
  return Number(res?.[0]?.[1] ?? 0) === 1;
}
