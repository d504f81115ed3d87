// Task samples for the charts, read with pipelined Redis calls: a batch's tasks (its first SAMPLE_MAX),
// or the tasks of the most recent batches for the overview.
import { arrivalsKey, readArrivalRollup } from '../../tasks/arrival-log.js';
import type { DashboardContext } from '../dashboard-context.js';
import { buildChartData, type ChartData, type TaskSample } from './chart-data.js';

/** Tasks one chart reads at most (a larger batch is charted by its first SAMPLE_MAX tasks). */
export const SAMPLE_MAX = 5_000;
/** The overview charts the tasks of this many most recent batches. */
export const OVERVIEW_BATCHES = 20;
const CHUNK = 250;

type Ctx = Pick<DashboardContext, 'redis' | 'tasks' | 'batches'>;

export async function readSamples(ctx: Ctx, taskUUIDs: readonly string[]): Promise<TaskSample[]> {
  const out: TaskSample[] = [];
  for (let i = 0; i < taskUUIDs.length; i += CHUNK) {
    const ids = taskUUIDs.slice(i, i + CHUNK);
    const pipe = ctx.redis.pipeline();
    for (const id of ids) {
      pipe.hmget(ctx.tasks.keys.task(id), 'state', 'submittedAt', 'finishedAt');
      pipe.hvals(ctx.tasks.keys.stored(id));
      pipe.hvals(arrivalsKey(ctx.tasks.keys, id));
    }
    const res = (await pipe.exec()) ?? [];
    ids.forEach((_, j) => {
      const [state, submittedAt, finishedAt] = (res[j * 3]?.[1] as (string | null)[]) ?? [];
      const stored = (res[j * 3 + 1]?.[1] as string[]) ?? [];
      const arrivals = (res[j * 3 + 2]?.[1] as string[]) ?? [];
      out.push({
        state: state ?? 'queued',
        submittedAt: submittedAt ? Number(submittedAt) : null,
        finishedAt: finishedAt ? Number(finishedAt) : null,
        cost: stored.reduce((s, v) => s + ((JSON.parse(v) as { cost?: number }).cost ?? 0), 0),
        arrivals: arrivals.map((v) => {
          const [via, at] = v.split('|');
          return { via: via === 'poll' ? ('poll' as const) : ('webhook' as const), at: Number(at) };
        }),
      });
    });
  }
  return out;
}

export async function batchChartData(ctx: Ctx, batchId: string): Promise<ChartData | null> {
  const batch = await ctx.batches.get(batchId);
  if (!batch) return null;
  const ids = await ctx.batches.taskUUIDs(batchId, 0, SAMPLE_MAX);
  return buildChartData(await readSamples(ctx, ids), batch.budgetUsd ?? null);
}

/** Recent batches together; the webhook-vs-poll ratio counts every arrival in the window (all tasks). */
export async function overviewChartData(ctx: Ctx): Promise<ChartData> {
  const batchIds = await ctx.batches.list(0, OVERVIEW_BATCHES);
  const ids: string[] = [];
  let budget = 0;
  let allBudgeted = batchIds.length > 0;
  for (const id of batchIds) {
    if (ids.length >= SAMPLE_MAX) break;
    ids.push(...(await ctx.batches.taskUUIDs(id, 0, SAMPLE_MAX - ids.length)));
    const b = await ctx.batches.get(id);
    if (b?.budgetUsd === undefined) allBudgeted = false;
    else budget += b.budgetUsd;
  }
  const first = buildChartData(await readSamples(ctx, ids), allBudgeted ? budget : null);
  const minutes = await readArrivalRollup(ctx.redis, ctx.tasks.keys, first.from, first.to);
  const webhook = minutes.reduce((s, m) => s + m.webhook, 0);
  const poll = minutes.reduce((s, m) => s + m.poll, 0);
  return { ...first, webhook, poll };
}
