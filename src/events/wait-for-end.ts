// Promises for "this task / batch has ended", without polling and without a race: the stream's last id
// is captured FIRST, then the current state is read; if it has not ended, the subscription starts from
// the captured id, so an end that happened in between is still seen.
import { NotFoundError } from '../errors.js';
import { type BatchStatus, readBatchStatus, readTaskStatus, type TaskStatus } from '../status/read-status.js';
import { EventWaitTimeoutError } from './event-errors.js';
import type { EventsContext } from './events-context.js';
import { lastEventId, type SubscribeOptions, subscribeEvents } from './subscribe-events.js';

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

const ENDED_TASK = new Set(['completed', 'partial', 'failed', 'cancelled']);

/** Resolves with the task's final status; rejects with EventWaitTimeoutError after `timeoutMs`. */
export function waitForTask(ctx: EventsContext, taskUUID: string, opts: WaitOptions): Promise<TaskStatus> {
  return waitUntilEnded(
    ctx,
    `task ${taskUUID}`,
    () => readTaskStatus(ctx, taskUUID),
    (s) => ENDED_TASK.has(s.state),
    { taskUUID, types: ['task.completed', 'task.failed', 'task.cancelled', 'relay.data_lost'] },
    opts,
  );
}

/** Resolves with the batch's final status once its batch.completed event is in the stream. */
export function waitForBatch(ctx: EventsContext, batchId: string, opts: WaitOptions): Promise<BatchStatus> {
  return waitUntilEnded(
    ctx,
    `batch ${batchId}`,
    () => readBatchStatus(ctx, batchId),
    (s) => s.state !== 'running' && s.state !== 'enqueuing',
    { batchId, types: ['batch.completed', 'relay.data_lost'] },
    opts,
  );
}

async function waitUntilEnded<S>(
  ctx: EventsContext,
  what: string,
  read: () => Promise<S | null>,
  ended: (s: S) => boolean,
  filter: SubscribeOptions,
  opts: WaitOptions,
): Promise<S> {
  const from = await lastEventId(ctx.redis, ctx.tasks.keys);
  const now = await read();
  if (!now) throw new NotFoundError(what);
  if (ended(now)) return now;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([stop.signal, opts.signal]) : stop.signal;
  try {
    for await (const ev of subscribeEvents(ctx.redis, ctx.tasks.keys, { ...filter, from, signal })) {
      const s = await read();
      if (s && ended(s)) return s;
      // Redis lost its data: what we wait for is gone and will never end.
      if (!s && ev.type === 'relay.data_lost') throw new NotFoundError(`${what} (Redis lost its data)`);
    }
    opts.signal?.throwIfAborted();
    throw new EventWaitTimeoutError(what, opts.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}
