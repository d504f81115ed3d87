// One page of a batch's tasks, optionally filtered by status and a search text (prompt or taskUUID).
// Filtering scans the batch in order, a chunk at a time with cheap pipelined reads, and stops after a
// bounded number of tasks; the page says where to continue, so a 100k-task batch is paged lazily.
import { readTaskStatus, type TaskStatus } from '../status/read-status.js';
import type { DashboardContext } from './dashboard-context.js';
import { dueTimes } from './overdue-tasks.js';

export const TASK_FILTERS = [
  'all',
  'queued',
  'inflight',
  'overdue',
  'completed',
  'partial',
  'failed',
  'cancelled',
] as const;
export type TaskFilter = (typeof TASK_FILTERS)[number];

export const PAGE_SIZE_DEFAULT = 48;
export const PAGE_SIZE_MAX = 200;
/** Tasks read per pipelined round trip while filtering. */
const SCAN_CHUNK = 250;
/** Tasks one filtered request examines at most before answering with where to continue. */
export const SCAN_MAX = 5_000;
const FULL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TaskQuery {
  status: TaskFilter;
  /** Case-insensitive substring of the prompt or the taskUUID; empty for none. */
  q: string;
  /** Position in the batch to start from. */
  offset: number;
  limit: number;
}

/** A task as the dashboard shows it: `overdue` follows the in-flight due time (see overdue-tasks.ts). */
export interface DashboardTask extends TaskStatus {
  dueAt: number | null;
}

export interface TaskPage {
  tasks: DashboardTask[];
  offset: number;
  /** Position to continue from, or null when the batch has no more matches after this page. */
  next: number | null;
  /** Tasks examined for this page (equal to the page length when unfiltered). */
  scanned: number;
}

type Ctx = Pick<DashboardContext, 'redis' | 'queue' | 'tasks' | 'batches'>;

export async function findBatchTasks(ctx: Ctx, batchId: string, query: TaskQuery): Promise<TaskPage> {
  const q = query.q.trim().toLowerCase();
  if (FULL_UUID.test(q)) return exactTask(ctx, batchId, query.q.trim(), query);
  if (query.status === 'all' && q === '') {
    const ids = await ctx.batches.taskUUIDs(batchId, query.offset, query.limit);
    const total = await ctx.batches.size(batchId);
    const end = query.offset + ids.length;
    return {
      tasks: await readTasks(ctx, ids),
      offset: query.offset,
      next: end < total ? end : null,
      scanned: ids.length,
    };
  }
  const found: string[] = [];
  let pos = query.offset;
  let scanned = 0;
  while (found.length < query.limit && scanned < SCAN_MAX) {
    const ids = await ctx.batches.taskUUIDs(batchId, pos, SCAN_CHUNK);
    if (ids.length === 0) return page(ctx, found, query.offset, null, scanned);
    const matches = await matchChunk(ctx, ids, query.status, q);
    for (let i = 0; i < ids.length; i++) {
      scanned++;
      pos++;
      if (matches[i]) found.push(ids[i]!);
      if (found.length === query.limit) break;
    }
  }
  const more = pos < (await ctx.batches.size(batchId));
  return page(ctx, found, query.offset, more ? pos : null, scanned);
}

async function exactTask(ctx: Ctx, batchId: string, uuid: string, query: TaskQuery): Promise<TaskPage> {
  const inBatch = (await ctx.redis.zscore(ctx.tasks.keys.batchTasks(batchId), uuid)) !== null;
  const [match] = inBatch ? await matchChunk(ctx, [uuid], query.status, '') : [false];
  return page(ctx, match ? [uuid] : [], query.offset, null, inBatch ? 1 : 0);
}

async function page(
  ctx: Ctx,
  ids: string[],
  offset: number,
  next: number | null,
  scanned: number,
): Promise<TaskPage> {
  return { tasks: await readTasks(ctx, ids), offset, next, scanned };
}

async function readTasks(ctx: Ctx, ids: readonly string[]): Promise<DashboardTask[]> {
  const [statuses, due] = await Promise.all([
    Promise.all(ids.map((id) => readTaskStatus(ctx, id))),
    dueTimes(ctx, ids),
  ]);
  const now = Date.now();
  const out: DashboardTask[] = [];
  statuses.forEach((s, i) => {
    if (!s) return;
    const dueAt = due[i] ?? null;
    out.push({ ...s, dueAt, overdue: dueAt !== null && dueAt < now });
  });
  return out;
}

/** For each task: does it pass the filter? One pipeline: state, due time and (when searching) the prompt. */
async function matchChunk(
  ctx: Ctx,
  ids: readonly string[],
  status: TaskFilter,
  q: string,
): Promise<boolean[]> {
  const pipe = ctx.redis.pipeline();
  for (const id of ids) {
    pipe.hget(ctx.tasks.keys.task(id), 'state');
    pipe.zscore(ctx.tasks.keys.inflight(), id);
  }
  // The prompt lives in the job's data: read through BullMQ's public Queue.getJob, concurrently.
  const [res, jobs] = await Promise.all([
    pipe.exec().then((r) => r ?? []),
    q ? Promise.all(ids.map((id) => ctx.queue.getJob(id))) : [],
  ]);
  const per = 2;
  const now = Date.now();
  return ids.map((id, i) => {
    const state = (res[i * per]?.[1] as string | null) ?? 'queued';
    const due = res[i * per + 1]?.[1] as string | null;
    const overdue = due !== null && due !== undefined && Number(due) < now;
    if (!passesStatus(state, overdue, status)) return false;
    if (!q) return true;
    return id.toLowerCase().includes(q) || promptOf(jobs[i]?.data).toLowerCase().includes(q);
  });
}

function passesStatus(state: string, overdue: boolean, filter: TaskFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'inflight':
      return state === 'submitting' || state === 'submitted';
    case 'overdue':
      return overdue;
    default:
      return state === filter;
  }
}

function promptOf(data: { task?: { positivePrompt?: unknown } } | undefined): string {
  return typeof data?.task?.positivePrompt === 'string' ? data.task.positivePrompt : '';
}
