// Everything the task page shows about one task, read from what is recorded: the status (public
// shape), every parameter from the job, the raw record (extra fields kept as they are, so fields added
// later still show), received items, how each result arrived, and the stored outputs.

import { readTaskStatus, type TaskStatus } from '../status/read-status.js';
import { type Arrival, readArrivals } from '../tasks/arrival-log.js';
import type { ReceivedItem } from '../tasks/types.js';
import { traceIdOf } from '../tracing/spans.js';
import type { DashboardContext } from './dashboard-context.js';
import { dueTimes } from './overdue-tasks.js';

export interface TaskView {
  status: TaskStatus;
  dueAt: number | null;
  /** The task as enqueued (provider field names), or null once the job is gone. */
  params: Record<string, unknown> | null;
  /** The task record's fields as stored in Redis (strings), including any this version does not know. */
  record: Record<string, string>;
  received: ReceivedItem[];
  arrivals: Arrival[];
  polls: number;
  attempt: number;
  /** The task's trace (README "Tracing"), when it was traced and its job is still kept. */
  traceId: string | undefined;
}

export async function readTaskView(ctx: DashboardContext, taskUUID: string): Promise<TaskView | null> {
  const status = await readTaskStatus(ctx, taskUUID);
  if (!status) return null;
  const [job, record, received, arrivals, [dueAt = null]] = await Promise.all([
    ctx.queue.getJob(taskUUID),
    ctx.redis.hgetall(ctx.tasks.keys.task(taskUUID)),
    ctx.tasks.receivedItems(taskUUID),
    readArrivals(ctx.redis, ctx.tasks.keys, taskUUID),
    dueTimes(ctx, [taskUUID]),
  ]);
  return {
    status,
    dueAt,
    params: job ? ({ ...job.data.task } as Record<string, unknown>) : null,
    record,
    received,
    arrivals,
    polls: Number(record.polls ?? 0),
    attempt: Number(record.attempt ?? 0),
    traceId: traceIdOf(job?.data.trace),
  };
}
