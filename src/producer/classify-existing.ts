// Where each task of a chunk already lives, before the chunk is added: nowhere (new), in this very batch
// (a re-run or a resumed enqueue), or elsewhere (another batch, or enqueued on its own). BullMQ would
// ignore an existing job id silently, so this is the one place a batch learns what it did not add.
import type { BatchStore } from '../tasks/batch-store.js';
import type { QueuedTask } from '../tasks/job-data.js';
import type { TaskQueue } from '../tasks/queue.js';
import type { RedisClient } from '../tasks/task-store.js';

export type Existing =
  | { kind: 'new' }
  | { kind: 'in-batch' }
  /** `batchId` null: the task was enqueued on its own, outside any batch. */
  | { kind: 'elsewhere'; batchId: string | null };

interface Ctx {
  redis: RedisClient;
  queue: TaskQueue;
  batches: BatchStore;
}

/** One round trip per chunk: the job's data and the task record's batch, for every task. */
export async function classifyExisting(
  ctx: Ctx,
  batchId: string,
  chunk: readonly { task: QueuedTask }[],
): Promise<Existing[]> {
  const multi = ctx.redis.multi();
  for (const c of chunk) {
    multi.hget(ctx.queue.toKey(c.task.taskUUID), 'data');
    multi.hget(ctx.batches.keys.task(c.task.taskUUID), 'batchId');
  }
  const res = (await multi.exec()) ?? [];
  return chunk.map((_, i) => {
    const [jobErr, jobData] = res[2 * i] ?? [];
    const [recErr, recordBatch] = res[2 * i + 1] ?? [];
    if (jobErr) throw jobErr;
    if (recErr) throw recErr;
    // The task record outlives its job (completed jobs are removed after KEEP_COMPLETED_SEC).
    if (typeof recordBatch === 'string') return where(recordBatch || null, batchId);
    if (typeof jobData !== 'string') return { kind: 'new' };
    return where((JSON.parse(jobData) as { batchId?: string }).batchId ?? null, batchId);
  });
}

function where(found: string | null, batchId: string): Existing {
  return found === batchId ? { kind: 'in-batch' } : { kind: 'elsewhere', batchId: found };
}
