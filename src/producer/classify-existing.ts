// Where each task of a chunk already lives, before the chunk is added: nowhere (new), in this very batch
// (a re-run or a resumed enqueue), or elsewhere (another batch, or enqueued on its own). BullMQ would
// ignore an existing job id silently, so this is the one place a batch learns what it did not add.
import type { QueuedTask } from '../tasks/job-data.js';
import type { RelayState } from '../tasks/relay-state.js';

export type Existing =
  | { kind: 'new' }
  | { kind: 'in-batch' }
  /** `batchId` null: the task was enqueued on its own, outside any batch. */
  | { kind: 'elsewhere'; batchId: string | null };

type Ctx = Pick<RelayState, 'redis' | 'queue' | 'batches'>;

/**
 * One round trip per chunk for the task records' batch; then, only for tasks without a record, the job
 * through BullMQ's public Queue.getJob (a queued job has no record yet), fetched concurrently.
 */
export async function classifyExisting(
  ctx: Ctx,
  batchId: string,
  chunk: readonly { task: QueuedTask }[],
): Promise<Existing[]> {
  const multi = ctx.redis.multi();
  for (const c of chunk) multi.hget(ctx.batches.keys.task(c.task.taskUUID), 'batchId');
  const res = (await multi.exec()) ?? [];
  return Promise.all(
    chunk.map(async (c, i): Promise<Existing> => {
      const [recErr, recordBatch] = res[i] ?? [];
      if (recErr) throw recErr;
      // The task record outlives its job (completed jobs are removed after KEEP_COMPLETED_SEC).
      if (typeof recordBatch === 'string') return where(recordBatch || null, batchId);
      const job = await ctx.queue.getJob(c.task.taskUUID);
      if (!job) return { kind: 'new' };
      return where(job.data.batchId ?? null, batchId);
    }),
  );
}

function where(found: string | null, batchId: string): Existing {
  return found === batchId ? { kind: 'in-batch' } : { kind: 'elsewhere', batchId: found };
}
