// Overdue = in flight past the time its results were due (the in-flight zset's score, set at submit and
// removed when the task ends). Counted queue-wide with one ZCOUNT; per batch by intersecting a bounded
// slice of the overdue set with the batch's task set, so a request never scans an unbounded set.
import type { DashboardContext } from './dashboard-context.js';

/** Per-batch counts examine at most this many overdue tasks of the whole queue; beyond it, a lower bound. */
export const OVERDUE_SCAN_MAX = 2_000;

export interface OverdueCount {
  count: number;
  /** More overdue tasks exist queue-wide than were examined: `count` is a lower bound. */
  capped: boolean;
}

type Ctx = Pick<DashboardContext, 'redis' | 'tasks'>;

export async function countOverdueInQueue(ctx: Ctx, now = Date.now()): Promise<number> {
  return ctx.redis.zcount(ctx.tasks.keys.inflight(), '-inf', `(${now}`);
}

export async function countOverdueInBatch(
  ctx: Ctx,
  batchId: string,
  now = Date.now(),
): Promise<OverdueCount> {
  const ids = await ctx.redis.zrangebyscore(
    ctx.tasks.keys.inflight(),
    '-inf',
    `(${now}`,
    'LIMIT',
    0,
    OVERDUE_SCAN_MAX,
  );
  if (ids.length === 0) return { count: 0, capped: false };
  const pipe = ctx.redis.pipeline();
  const batchTasks = ctx.tasks.keys.batchTasks(batchId);
  for (const id of ids) pipe.zscore(batchTasks, id);
  const res = (await pipe.exec()) ?? [];
  const count = res.filter(([err, score]) => !err && score !== null).length;
  return { count, capped: ids.length === OVERDUE_SCAN_MAX };
}

/** When each task's results were (or are) due, for tasks in flight; null for the others. */
export async function dueTimes(ctx: Ctx, taskUUIDs: readonly string[]): Promise<(number | null)[]> {
  if (taskUUIDs.length === 0) return [];
  const pipe = ctx.redis.pipeline();
  for (const id of taskUUIDs) pipe.zscore(ctx.tasks.keys.inflight(), id);
  const res = (await pipe.exec()) ?? [];
  return taskUUIDs.map((_, i) => {
    const score = res[i]?.[1];
    return typeof score === 'string' ? Number(score) : null;
  });
}
