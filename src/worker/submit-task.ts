// Submits a task to the provider. The record is written BEFORE the submit, so a webhook that beats the
// submit's acknowledgement still finds its task. A conflictTaskUUID answer means an earlier attempt got
// through: it counts as accepted.
import { UnrecoverableError } from 'bullmq';
import type { Logger } from '../log.js';
import { uploadSubtaskUuids } from '../tasks/attempt-uuids.js';
import type { TaskJobData } from '../tasks/job-data.js';
import type { TaskRecord } from '../tasks/types.js';
import type { WebhookTrace } from '../tokens/webhook-token.js';
import { ATTR, activeTaskTrace, taskSpan } from '../tracing/spans.js';
import { buildProviderTasks, type DeliveryTarget } from './build-provider-tasks.js';
import type { WorkerDeps } from './worker-deps.js';

/** Extra validity of webhook tokens beyond the result deadline, for the provider's late retries. */
const TOKEN_GRACE_SEC = 24 * 3600;

export async function submitTask(
  deps: WorkerDeps,
  data: TaskJobData,
  existing: TaskRecord | null,
  log: Logger,
  /** The batch's cancel flag as read with the task's state this activation; read here when absent. */
  batchCancelled?: boolean,
): Promise<Submitted> {
  const { task, batchId } = data;
  const cfg = deps.config;
  const cancelled = batchId ? (batchCancelled ?? (await deps.tasks.isBatchCancelled(batchId))) : false;
  if (cancelled) {
    await deps.tasks.finish(task.taskUUID, batchId, 'cancelled', 'batch cancelled before submit');
    throw new UnrecoverableError('cancelled: batch cancelled before submit');
  }
  const mode = existing?.mode ?? cfg.DELIVERY_MODE;
  // The first poll's delay is read (latency sketch, webhook health) with the create: one round trip.
  const [created, firstPollDelay] = await Promise.all([
    deps.tasks.createRecord({
      taskUUID: task.taskUUID,
      jobId: task.taskUUID,
      batchId,
      mode,
      expected: task.numberResults ?? 1,
      ...(mode === 'upload' ? { subtasks: uploadSubtaskUuids(task.taskUUID, task.numberResults ?? 1) } : {}),
    }),
    deps.poll.firstPollDelay(task),
  ]);
  // The record decides the provider UUID(s): an operator retry gives each attempt new ones. A record
  // just created is known without reading it back.
  const current = existing ?? created ?? (await deps.tasks.get(task.taskUUID));
  if (!current) throw new Error(`task record ${task.taskUUID} missing after create`);
  const providerTasks = await buildProviderTasks(
    task,
    { providerTaskUUID: current.providerTaskUUID, subtasks: current.subtasks },
    deliveryTarget(cfg, mode, activeTaskTrace()),
    deps.store,
  );
  for (const pt of providerTasks) {
    // kr.submit: one HTTP call to the provider, with its status, or the error with the provider's code.
    await taskSpan('kr.submit', { 'kr.provider_task_uuid': pt.taskUUID }, async (span) => {
      const started = performance.now();
      const outcome = await deps.client.submit(pt);
      deps.metrics.submitLatency.observe((performance.now() - started) / 1000);
      span.setAttributes({ [ATTR.providerStatus]: outcome.status, [ATTR.outcome]: outcome.kind });
      if (outcome.kind === 'alreadyAccepted')
        log.info({ providerTaskUUID: pt.taskUUID }, 'already accepted earlier');
    });
  }
  const now = Date.now();
  // The first poll is due when the results are overdue by the learned latency (poll-planner.ts).
  const times = { nextPollAt: now + firstPollDelay, deadlineAt: now + cfg.RESULT_DEADLINE_MS };
  // The latency-class tag goes out with the transition (after the create, which it must not precede).
  const [{ moved, anythingRecorded }] = await Promise.all([
    deps.tasks.submitted(task.taskUUID, batchId, times, now),
    deps.poll.tagLatencyClass(task),
  ]);
  log.debug({ providerTasks: providerTasks.length, mode }, 'submitted');
  // The usual case: we just wrote the state, no need to read it back. Otherwise (cancelled meanwhile,
  // or an earlier attempt had already marked it) the record says what happened.
  if (moved) {
    const rec: TaskRecord = {
      ...current,
      state: 'submitted',
      submittedAt: now,
      dueAt: times.nextPollAt,
      ...times,
    };
    return { rec, fresh: !anythingRecorded && current.retrySubmit === false };
  }
  const rec = await deps.tasks.get(task.taskUUID);
  if (!rec) throw new Error(`task record ${task.taskUUID} missing after submit`);
  return { rec, fresh: false };
}

export interface Submitted {
  rec: TaskRecord;
  /**
   * This call moved the task from 'submitting' to 'submitted' and no result or error had been
   * recorded yet (nothing is stored or failed before a submit): the slots need not be read now. One
   * recorded after this is seen by the check after parking (TaskStore.hasNewWork), which wakes the job.
   */
  fresh: boolean;
}

/** Where and how long the provider may deliver the results of a task submitted now. */
export function deliveryTarget(
  cfg: WorkerDeps['config'],
  mode: 'webhook' | 'upload',
  trace?: WebhookTrace,
): DeliveryTarget {
  const nowSec = Math.floor(Date.now() / 1000);
  return {
    ...(trace ? { trace } : {}),
    mode,
    publicUrl: cfg.PUBLIC_URL,
    secret: requireSecret(cfg.WEBHOOK_SECRET),
    tokenExpiresAtSec: nowSec + Math.ceil(cfg.RESULT_DEADLINE_MS / 1000) + TOKEN_GRACE_SEC,
    keyPrefix: cfg.S3_KEY_PREFIX,
    uploadUrlTtlSec: Math.ceil(cfg.RESULT_DEADLINE_MS / 1000) + 3600,
  };
}

function requireSecret(secret: string | undefined): string {
  if (!secret) throw new UnrecoverableError('WEBHOOK_SECRET is not set: webhook URLs cannot be signed');
  return secret;
}
