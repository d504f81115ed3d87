// A live, resumable subscription to the events stream. It blocks (XREAD BLOCK) on its own duplicated
// connection, never the shared one; it remembers the last id it read, so passing that id back as `from`
// after a disconnect yields exactly the events that came later (while they are still in the stream).
import { Cluster } from 'ioredis';
import type { TaskKeys } from '../tasks/keys.js';
import type { RedisClient } from '../tasks/task-store.js';
import {
  eventTaskUUID,
  isRelayWideEvent,
  parseStreamEntry,
  type RelayEvent,
  type RelayEventType,
} from './event-types.js';

/** How long one XREAD blocks before it re-checks the abort signal (abort also cuts it short). */
export const SUBSCRIBE_BLOCK_MS = 5000;
/** Entries read per XREAD. */
export const SUBSCRIBE_BATCH = 200;
/** The id before every stream entry. */
export const STREAM_START = '0-0';

export interface SubscribeOptions {
  /** Stream id to read after: `'$'` (default) = only events from now on, `'0'` = from the start. */
  from?: string;
  batchId?: string;
  taskUUID?: string;
  types?: readonly RelayEventType[];
  signal?: AbortSignal;
}

export type StreamEntry = [id: string, fields: string[]];

/**
 * The stream read commands through ioredis' own methods, which map RESP3 replies to the RESP2 shapes
 * (`call()` would hand back RESP3 maps flattened). Typed loosely: ioredis' overloads do not compose
 * over `Redis | Cluster`.
 */
export interface StreamReader {
  xread(...args: (string | number)[]): Promise<unknown>;
  xreadgroup(...args: (string | number)[]): Promise<unknown>;
}

/** The entries of the first (only) stream in an XREAD / XREADGROUP reply. */
export function firstStreamEntries(reply: unknown): StreamEntry[] {
  return (reply as [string, StreamEntry[]][] | null)?.[0]?.[1] ?? [];
}

/** The id of the newest event in the stream, or `0-0` when it is empty: a fixed point to read after. */
export async function lastEventId(redis: RedisClient, keys: TaskKeys): Promise<string> {
  const last = (await redis.xrevrange(keys.events(), '+', '-', 'COUNT', 1)) as StreamEntry[];
  return last[0]?.[0] ?? STREAM_START;
}

/** A fresh connection like `redis` (same node or cluster), for blocking commands. */
export function duplicateConnection(redis: RedisClient): RedisClient {
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}

/**
 * Events after `from`, live, until `signal` aborts (or the consumer stops iterating). `'$'` means
 * "after the newest event at the time of this call": it is resolved at once, not at the first read,
 * so nothing appended in between is missed.
 */
export function subscribeEvents(
  redis: RedisClient,
  keys: TaskKeys,
  opts: SubscribeOptions = {},
): AsyncGenerator<RelayEvent, void, undefined> {
  const start = !opts.from || opts.from === '$' ? lastEventId(redis, keys) : Promise.resolve(opts.from);
  start.catch(() => undefined); // a failure surfaces on the first read
  return readEvents(redis, keys, start, opts);
}

async function* readEvents(
  redis: RedisClient,
  keys: TaskKeys,
  start: Promise<string>,
  opts: SubscribeOptions,
): AsyncGenerator<RelayEvent, void, undefined> {
  const { signal } = opts;
  if (signal?.aborted) return;
  let cursor = await start;
  const conn = duplicateConnection(redis);
  // Closing the connection ends a pending XREAD at once (it rejects; the abort check below ends us).
  // Once only: a second disconnect leaves ioredis' 2 s socket-destroy timer holding the process open.
  let closed = false;
  const onAbort = () => {
    if (closed) return;
    closed = true;
    conn.disconnect();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const types = opts.types ? new Set<string>(opts.types) : undefined;
  try {
    while (!signal?.aborted) {
      const entries = await readAfter(conn, keys, cursor).catch((e: unknown) => {
        if (signal?.aborted) return [];
        throw e;
      });
      for (const [id, fields] of entries) {
        cursor = id;
        const ev = parseStreamEntry(id, fields);
        if (!ev) continue;
        const everyone = isRelayWideEvent(ev);
        if (!everyone && opts.batchId !== undefined && ev.batchId !== opts.batchId) continue;
        if (!everyone && opts.taskUUID !== undefined && eventTaskUUID(ev) !== opts.taskUUID) continue;
        if (types && !types.has(ev.type)) continue;
        yield ev;
        if (signal?.aborted) return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    onAbort();
  }
}

async function readAfter(conn: RedisClient, keys: TaskKeys, cursor: string): Promise<StreamEntry[]> {
  const reply = await (conn as unknown as StreamReader).xread(
    'COUNT',
    SUBSCRIBE_BATCH,
    'BLOCK',
    SUBSCRIBE_BLOCK_MS,
    'STREAMS',
    keys.events(),
    cursor,
  );
  return firstStreamEntries(reply);
}
