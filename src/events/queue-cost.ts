// Queue-level cost: the sum of every task.completed cost, kept as a running total beside a cursor into
// the events stream and folded forward on read (and by the dispatcher as it goes). FINISH_TASK stays
// untouched; a task's cost is counted exactly once because the fold moves total and cursor atomically.
// Caveat: the stream is trimmed at EVENTS_STREAM_MAX_LEN, so a total nobody folds for that many
// events misses the trimmed ones; a running dispatcher (or any periodic reader) keeps it current.

import { scripted } from '../tasks/lua/script-registry.js';
import { EventKeys } from './event-keys.js';
import type { EventsContext } from './events-context.js';

/** Stream entries folded per script call (bounds the time Redis spends in one call). */
const FOLD_BATCH = 1000;
/** Totals are sums of float prices: report them rounded to a millionth of a dollar. */
const USD_DECIMALS = 1e6;

export interface QueueCost {
  /** Provider-reported cost of every completed task in the queue, USD. */
  totalUsd: number;
}

/** Bring the total up to the end of the stream; returns the total. */
export async function foldQueueCost(ctx: Pick<EventsContext, 'redis' | 'tasks'>): Promise<QueueCost> {
  const redis = scripted(ctx.redis);
  const keys = new EventKeys(ctx.tasks.keys);
  for (;;) {
    const [read, total] = await redis.krFoldQueueCost(keys.queueCost(), ctx.tasks.keys.events(), FOLD_BATCH);
    if (read < FOLD_BATCH) return { totalUsd: Math.round(Number(total) * USD_DECIMALS) / USD_DECIMALS };
  }
}

/** The queue's total cost so far (folds any events not yet counted). */
export const queueCost = foldQueueCost;
