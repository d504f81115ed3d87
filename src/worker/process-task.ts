// The BullMQ processor: one job per task, run as a step job. It submits, then parks the job in the
// delayed set (no worker slot held) until a webhook wakes it, a poll is due, or the deadline passes.
// Every step is idempotent, so a crash anywhere only repeats work that dedups.
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { OutputFetchError, ProviderError, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QueuedTask, TaskJobData, TaskJobResult } from '../tasks/job-data.js';
import { RESULT_PRIORITY } from '../tasks/job-options.js';
import type { SlotsState } from '../tasks/task-store.js';
import { type SlotFailure, type StoredOutput, type TaskRecord, TERMINAL_STATES } from '../tasks/types.js';
import { inTaskTrace, taskAttributes } from '../tracing/spans.js';
import { holdUntilAdmitted } from './admission-gate.js';
import { holdIfOverBudget } from './budget-gate.js';
import { pollWhenDue } from './poll-provider.js';
import { OverloadDetector } from './provider-overload.js';
import { resolveSlots } from './resolve-slots.js';
import { storeOutputs } from './store-outputs.js';
import { submitTask } from './submit-task.js';
import { traceCompletion } from './trace-completion.js';
import type { WorkerDeps } from './worker-deps.js';

/** Re-check delay while an upload-mode object has not reached the bucket yet. */
export const UPLOAD_RECHECK_MS = 1000;
/** Rounds of store/poll in one activation before parking again (bounds a single run). */
const MAX_ROUNDS = 4;

export type TaskJob = Job<TaskJobData, TaskJobResult>;

export interface ProcessorControl {
  /** Slow the whole queue down (BullMQ rate limiting) and hand back the error to throw. */
  rateLimit(ms: number): Promise<Error>;
  /** Stop taking jobs (auth/quota failures) until an operator resumes the queue. */
  pause(reason: string): Promise<Error>;
}

export function createProcessor(deps: WorkerDeps, control: ProcessorControl) {
  const overload = new OverloadDetector();
  const processTask = async (job: TaskJob, token?: string): Promise<TaskJobResult> => {
    const { task, batchId } = job.data;
    const log = deps.logger.child({ taskUUID: task.taskUUID, jobId: job.id, batchId });
    // One read of everything this activation looks at: record, slots, the batch's flags.
    const snap = await deps.tasks.snapshot(task.taskUUID, batchId);
    let rec = snap.rec;
    if (rec && TERMINAL_STATES.has(rec.state)) return settle(deps, rec, snap.progress.stored);
    try {
      let seen: SlotsState | undefined = snap.progress;
      if (!rec || rec.state === 'submitting') {
        // Budget hook (budget-gate.ts): a task of a batch over its budget is parked here, before
        // submit, without using an attempt; raiseBudget() wakes it.
        await holdIfOverBudget(deps, job, token, log, snap.batch?.hasBudget);
        await holdUntilAdmitted(deps, job, token, log); // fair share (admission-gate.ts)
        const submitted = await submitTask(deps, job.data, rec, log, snap.batch?.cancelled);
        rec = submitted.rec;
        seen = submitted.fresh ? { items: [], stored: [], failures: [] } : undefined;
      }
      return await advance(deps, job, token, task, rec, seen, log);
    } catch (e) {
      if (e instanceof DelayedError || e instanceof UnrecoverableError) throw e;
      const partial = await partialOnLastAttempt(deps, job, e, log);
      if (partial) return partial;
      throw await onFailure(deps, control, overload, job, e, log);
    }
  };
  // Each activation continues the task's trace from its stored traceparent (README "Tracing").
  return (job: TaskJob, token?: string): Promise<TaskJobResult> => {
    const { task, batchId, trace } = job.data;
    if (!trace) return processTask(job, token);
    const shared = taskAttributes(task.taskUUID, batchId, job.attemptsMade + 1);
    return inTaskTrace(trace, shared, () => processTask(job, token));
  };
}

async function advance(
  deps: WorkerDeps,
  job: TaskJob,
  token: string | undefined,
  task: QueuedTask,
  first: TaskRecord,
  firstSeen: SlotsState | undefined,
  log: Logger,
): Promise<TaskJobResult> {
  let rec: TaskRecord | null = first;
  let seen = firstSeen;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (round > 0 || !seen) {
      // Record and slots again, together (one round trip).
      const snap = await deps.tasks.snapshot(task.taskUUID);
      if (round > 0) rec = snap.rec;
      seen = snap.progress;
    }
    if (!rec) throw new Error(`task record ${task.taskUUID} vanished`);
    if (TERMINAL_STATES.has(rec.state)) return settle(deps, rec, seen.stored);
    const progress = await storeOutputs(deps, rec, task, seen);
    if (progress.complete) return complete(deps, rec, progress.outputs, log, progress.finished);
    // Per-slot outcomes (resolve-slots.ts): a retry of the missing slots, or the end with some failed.
    const slots = await resolveSlots(deps, task, rec, progress, log);
    if (slots.kind === 'ended') return endWithFailedSlots(deps, rec, progress.outputs, slots.failed, log);
    if (slots.kind === 'changed') continue;

    const now = Date.now();
    if (now >= rec.deadlineAt) {
      const got = `${progress.outputs.length} of ${rec.expected} outputs stored`;
      const reason = `no complete result ${Math.round((now - (rec.submittedAt ?? now)) / 1000)}s after submit (${got})`;
      const ended = new Set([...progress.outputs.map((o) => o.slot), ...progress.failed.map((f) => f.slot)]);
      const late = Array.from({ length: rec.expected }, (_, slot) => slot)
        .filter((slot) => !ended.has(slot))
        .map((slot): SlotFailure => ({ slot, code: 'RESULT_DEADLINE', message: reason, stage: 'deadline' }));
      await deps.tasks.slots.failSlots(rec.taskUUID, late);
      if (late.length) deps.metrics.slotsFailed.inc({ code: 'RESULT_DEADLINE' }, late.length);
      const failed = [...progress.failed, ...late].sort((a, b) => a.slot - b.slot);
      return endWithFailedSlots(deps, rec, progress.outputs, failed, log);
    }
    let wakeAt = Math.min(rec.nextPollAt, rec.deadlineAt);
    if (now >= rec.nextPollAt) {
      const polled = await pollWhenDue(deps, rec, task, log, now);
      if (polled.progressed) continue;
      wakeAt = Math.min(polled.wakeAt, rec.deadlineAt);
    }
    if (progress.awaitingUploads > 0) wakeAt = Math.min(wakeAt, now + UPLOAD_RECHECK_MS);
    if (progress.retryLater)
      log.warn({ err: progress.retryLater }, 'storing an output failed; retrying later');
    if (progress.retryAt !== undefined) wakeAt = Math.min(wakeAt, progress.retryAt);
    await park(deps, job, token, rec.taskUUID, wakeAt, progress.received);
  }
  await park(deps, job, token, task.taskUUID, Date.now(), Number.MAX_SAFE_INTEGER);
  throw new Error('unreachable');
}

/** Move the job to the delayed set until `wakeAt`, then wake it at once if work arrived meanwhile. */
async function park(
  deps: WorkerDeps,
  job: TaskJob,
  token: string | undefined,
  taskUUID: string,
  wakeAt: number,
  seenReceived: number,
): Promise<never> {
  // The priority change goes out with the move (one round trip): both run on the worker's connection,
  // in this order. It only decides where the job goes once woken, so a failed change does not stop
  // the park.
  const raise =
    (job.opts.priority ?? 0) > RESULT_PRIORITY
      ? job.changePriority({ priority: RESULT_PRIORITY }).then(
          () => {
            job.opts.priority = RESULT_PRIORITY;
          },
          () => undefined,
        )
      : undefined;
  await Promise.all([raise, job.moveToDelayed(Math.max(wakeAt, Date.now() + 1), token)]);
  if (await deps.tasks.hasNewWork(taskUUID, seenReceived)) {
    await job.promote().catch(() => undefined); // already woken by the webhook server
  }
  throw new DelayedError();
}

/** `finished`: the last store already ended the task (storeAndFinish), with this code. */
async function complete(
  deps: WorkerDeps,
  rec: TaskRecord,
  outputs: TaskJobResult['outputs'],
  log: Logger,
  finished?: 'already' | 'ended' | 'batchEnded',
) {
  const cost = outputs.reduce((s, o) => s + (o.cost ?? 0), 0);
  const ended =
    finished ??
    (await traceCompletion(deps.tasks, rec, 'completed', () =>
      deps.tasks.finish(rec.taskUUID, rec.batchId, 'completed', '', cost, outputs),
    ));
  if (ended === 'already') {
    const now = await deps.tasks.get(rec.taskUUID);
    if (now) return settle(deps, now);
  }
  deps.metrics.tasksFinished.inc({ outcome: 'completed' });
  if (cost > 0) deps.metrics.cost.inc({ batch: rec.batchId ?? '' }, cost);
  if (rec.submittedAt) deps.metrics.providerLatency.observe((Date.now() - rec.submittedAt) / 1000);
  log.info({ outputs: outputs.length, cost }, 'task completed');
  return { taskUUID: rec.taskUUID, outputs, cost };
}

/**
 * Every slot ended and some failed: 'partial' when some are stored (the job completes with them),
 * else 'failed' with the first slot's reason. Both carry every failed slot's reason.
 */
async function endWithFailedSlots(
  deps: WorkerDeps,
  rec: TaskRecord,
  outputs: TaskJobResult['outputs'],
  failed: SlotFailure[],
  log: Logger,
): Promise<TaskJobResult> {
  const first = failed[0];
  const firstReason = first ? `${first.code}: ${first.message}` : 'no output stored';
  if (outputs.length === 0) {
    const ended = await traceCompletion(deps.tasks, rec, 'failed', () =>
      deps.tasks.finish(rec.taskUUID, rec.batchId, 'failed', firstReason, 0, [], Date.now(), failed),
    );
    if (ended !== 'already') {
      deps.metrics.tasksFinished.inc({ outcome: 'failed' });
      log.warn({ reason: firstReason, failedSlots: failed.length }, 'task failed');
    }
    throw new UnrecoverableError(firstReason);
  }
  const cost = outputs.reduce((s, o) => s + (o.cost ?? 0), 0);
  const reason = `${failed.length} of ${rec.expected} slots failed: ${failed.map((f) => `slot ${f.slot} ${f.code}: ${f.message}`).join('; ')}`;
  const ended = await traceCompletion(deps.tasks, rec, 'partial', () =>
    deps.tasks.finish(rec.taskUUID, rec.batchId, 'partial', reason, cost, outputs, Date.now(), failed),
  );
  if (ended === 'already') {
    const now = await deps.tasks.get(rec.taskUUID);
    if (now) return settle(deps, now);
  }
  deps.metrics.tasksFinished.inc({ outcome: 'partial' });
  if (cost > 0) deps.metrics.cost.inc({ batch: rec.batchId ?? '' }, cost);
  log.warn({ outputs: outputs.length, failedSlots: failed.length, reason }, 'task partial');
  return { taskUUID: rec.taskUUID, outputs, cost, failedSlots: failed };
}

/**
 * A task that already ended: completed/partial give their outputs again; failed/cancelled fail the job.
 * `stored`: the outputs as read with the record, when they were.
 */
async function settle(deps: WorkerDeps, rec: TaskRecord, stored?: StoredOutput[]): Promise<TaskJobResult> {
  if (rec.state === 'completed' || rec.state === 'partial') {
    const outputs = stored ?? (await deps.tasks.storedOutputs(rec.taskUUID));
    return { taskUUID: rec.taskUUID, outputs, cost: outputs.reduce((s, o) => s + (o.cost ?? 0), 0) };
  }
  throw new UnrecoverableError(rec.reason ?? rec.state);
}

/**
 * The job's last attempt failed (e.g. a slot retry's submit kept failing) while some slots are
 * stored: those stay the task's outputs, the rest fail with the error, and the task ends partial.
 */
async function partialOnLastAttempt(
  deps: WorkerDeps,
  job: TaskJob,
  e: unknown,
  log: Logger,
): Promise<TaskJobResult | undefined> {
  if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) return undefined;
  if (
    e instanceof ProviderError &&
    (e.category === 'rateLimit' || e.category === 'auth' || e.category === 'quota')
  )
    return undefined;
  const rec = await deps.tasks.get(job.data.task.taskUUID);
  if (rec?.state !== 'submitted') return undefined;
  const [outputs, failedBefore] = await Promise.all([
    deps.tasks.storedOutputs(rec.taskUUID),
    deps.tasks.slots.failures(rec.taskUUID),
  ]);
  if (outputs.length === 0) return undefined;
  const ended = new Set([...outputs.map((o) => o.slot), ...failedBefore.map((f) => f.slot)]);
  const code = e instanceof ProviderError ? e.providerCode : e instanceof RelayError ? e.code : 'FAILED';
  const message = e instanceof Error ? e.message : String(e);
  const rest = Array.from({ length: rec.expected }, (_, slot) => slot)
    .filter((slot) => !ended.has(slot))
    .map((slot): SlotFailure => ({ slot, code, message, stage: 'provider' }));
  await deps.tasks.slots.failSlots(rec.taskUUID, rest);
  const failed = [...failedBefore, ...rest].sort((a, b) => a.slot - b.slot);
  return endWithFailedSlots(deps, rec, outputs, failed, log);
}

async function onFailure(
  deps: WorkerDeps,
  control: ProcessorControl,
  overload: OverloadDetector,
  job: TaskJob,
  e: unknown,
  log: Logger,
): Promise<Error> {
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const uuid = job.data.task.taskUUID;
  if (e instanceof ProviderError) {
    deps.metrics.submitErrors.inc({ category: e.category });
    // 429, or a burst of 503s: slow the whole queue down (no attempt used). A sporadic 503 is retried
    // for this task alone below (provider-overload.ts).
    if (e.category === 'rateLimit' || (e.httpStatus === 503 && overload.record())) {
      log.warn({ code: e.providerCode }, 'provider asks us to slow down');
      deps.metrics.providerBackoffs.inc({ scope: 'queue' });
      return control.rateLimit(deps.config.RATE_LIMIT_BACKOFF_MS);
    }
    if (e.httpStatus === 503) deps.metrics.providerBackoffs.inc({ scope: 'task' });
    if (e.category === 'auth' || e.category === 'quota') {
      log.error({ code: e.providerCode }, 'provider refused our account; pausing the queue');
      return control.pause(e.message);
    }
    if (!e.retryable || lastAttempt) return finalFailure(deps, job, e.message, log);
    return e;
  }
  if (e instanceof OutputFetchError && !e.retryable)
    return finalFailure(deps, job, `${e.code}: ${e.message}`, log);
  if (lastAttempt) return finalFailure(deps, job, e instanceof Error ? e.message : String(e), log);
  log.warn({ err: e, taskUUID: uuid }, 'attempt failed; will retry');
  return e instanceof Error ? e : new Error(String(e));
}

async function finalFailure(deps: WorkerDeps, job: TaskJob, reason: string, log: Logger): Promise<Error> {
  const { task, batchId } = job.data;
  const ended = await traceCompletion(deps.tasks, { taskUUID: task.taskUUID }, 'failed', () =>
    deps.tasks.finish(task.taskUUID, batchId, 'failed', reason),
  );
  if (ended !== 'already') {
    deps.metrics.tasksFinished.inc({ outcome: 'failed' });
    log.warn({ reason }, 'task failed');
  }
  return new UnrecoverableError(reason);
}
