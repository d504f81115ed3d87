// Operator retry of a batch's failed and partial tasks. The provider refuses a reused taskUUID, so each
// retry is a new provider task under a derived UUID; late results of the earlier attempt are ignored.
// A failed task runs again whole; a partial task only for its failed slots (stored slots are kept).
// `planRetry` says how many images a retry will bill before anything is done.
import { attemptProviderUuid, uploadSubtaskUuids } from '../tasks/attempt-uuids.js';
import type { TaskRecord } from '../tasks/types.js';
import { batchTaskUUIDs, type ControlContext } from './control-context.js';

export interface RetryOutcome {
  retried: number;
  /** Images the provider will generate (and bill) for these retries. */
  billedImages: number;
  /** Failed tasks whose job is gone (past the failed-job retention): they cannot be re-run. */
  unavailable: string[];
}

export interface RetryPlan {
  /** Failed tasks (run again whole) and partial tasks (their failed slots only). */
  failedTasks: number;
  partialTasks: number;
  /** Images the retry will have the provider generate: what it bills. */
  billedImages: number;
  /** Partial tasks' slots that were generated but could not be stored: fetched again, not billed. */
  refetchedSlots: number;
}

/** When an operator retry's new attempt is due, in ms: the task's results are awaited from then. */
export interface RetryTimes {
  firstPollAfterMs: number;
  resultDeadlineMs: number;
}

const DEFAULT_TIMES: RetryTimes = { firstPollAfterMs: 60_000, resultDeadlineMs: 30 * 60_000 };

/** What retrying this task would bill (0 when it is neither failed nor partial). */
async function billOf(ctx: ControlContext, rec: TaskRecord): Promise<{ billed: number; refetched: number }> {
  if (rec.state === 'failed') return { billed: rec.expected, refetched: 0 };
  if (rec.state !== 'partial') return { billed: 0, refetched: 0 };
  const [received, stored] = await Promise.all([
    ctx.tasks.receivedItems(rec.taskUUID),
    ctx.tasks.storedOutputs(rec.taskUUID),
  ]);
  const done = new Set(stored.map((s) => s.slot));
  const receivedSlots = new Set(received.map((r) => r.slot));
  const refetched = [...receivedSlots].filter((s) => !done.has(s)).length;
  return { billed: rec.expected - receivedSlots.size, refetched };
}

/** Retry one failed or partial task; false when it is neither, or its job no longer exists. */
export async function retryTask(
  ctx: ControlContext,
  taskUUID: string,
  times: RetryTimes = DEFAULT_TIMES,
): Promise<boolean> {
  const rec = await ctx.tasks.get(taskUUID);
  return rec ? retryRecord(ctx, rec, times) : false;
}

/** retryTask for a record the caller has just read (no second read); false unless failed or partial. */
export async function retryRecord(
  ctx: ControlContext,
  rec: TaskRecord,
  times: RetryTimes = DEFAULT_TIMES,
): Promise<boolean> {
  const { taskUUID } = rec;
  if (rec.state !== 'failed' && rec.state !== 'partial') return false;
  const job = await ctx.queue.getJob(taskUUID);
  if (!job) return false;
  if (rec.state === 'partial') {
    const now = Date.now();
    const reopened = await ctx.tasks.slots.reopenPartial(taskUUID, rec.batchId, {
      nextPollAt: now + times.firstPollAfterMs,
      deadlineAt: now + times.resultDeadlineMs,
    });
    if (!reopened) return false;
    // A partial task's job completed with its stored outputs; it runs again to finish the rest.
    await job.retry('completed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }
  const attempt = rec.attempt + 1;
  const providerTaskUUID = attemptProviderUuid(taskUUID, attempt);
  const subtasks = rec.mode === 'upload' ? uploadSubtaskUuids(providerTaskUUID, rec.expected) : [];
  if (!(await ctx.tasks.resetForRetry(taskUUID, rec.batchId, { attempt, providerTaskUUID, subtasks })))
    return false;
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

/** What `retryFailedTasks` would do to this batch now, without doing it. */
export async function planRetry(ctx: ControlContext, batchId: string): Promise<RetryPlan> {
  const plan: RetryPlan = { failedTasks: 0, partialTasks: 0, billedImages: 0, refetchedSlots: 0 };
  for await (const uuid of batchTaskUUIDs(ctx, batchId)) {
    const rec = await ctx.tasks.get(uuid);
    if (rec?.state !== 'failed' && rec?.state !== 'partial') continue;
    if (rec.state === 'failed') plan.failedTasks++;
    else plan.partialTasks++;
    const { billed, refetched } = await billOf(ctx, rec);
    plan.billedImages += billed;
    plan.refetchedSlots += refetched;
  }
  return plan;
}

export interface RetryFailedOptions {
  times?: RetryTimes;
  /** Hears each retried task and the images its retry bills (the audit trail lists them). */
  onRetried?: (taskUUID: string, images: number) => void;
}

export async function retryFailedTasks(
  ctx: ControlContext,
  batchId: string,
  opts: RetryFailedOptions = {},
): Promise<RetryOutcome> {
  const times = opts.times ?? DEFAULT_TIMES;
  const out: RetryOutcome = { retried: 0, billedImages: 0, unavailable: [] };
  for await (const uuid of batchTaskUUIDs(ctx, batchId)) {
    const rec = await ctx.tasks.get(uuid);
    if (rec?.state !== 'failed' && rec?.state !== 'partial') continue;
    const { billed } = await billOf(ctx, rec);
    if (await retryRecord(ctx, rec, times)) {
      out.retried++;
      out.billedImages += billed;
      opts.onRetried?.(uuid, billed);
    } else out.unavailable.push(uuid);
  }
  return out;
}
