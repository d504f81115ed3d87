// A slot retry: a new provider task for the missing slots only, under a taskUUID derived from the
// task's and the retry's number (so a crash between recording and submitting re-submits the same one,
// which the provider answers with conflictTaskUUID). Slots already stored are never generated again.
import { ProviderError } from '../errors.js';
import type { Logger } from '../log.js';
import { slotRetryProviderUuid, uploadSubtaskUuids } from '../tasks/attempt-uuids.js';
import type { QueuedTask } from '../tasks/job-data.js';
import type { SlotFailure, TaskRecord } from '../tasks/types.js';
import { ATTR, activeTaskTrace, taskSpan } from '../tracing/spans.js';
import { buildProviderTasks, offsetSeed } from './build-provider-tasks.js';
import { deliveryTarget } from './submit-task.js';
import type { WorkerDeps } from './worker-deps.js';

/** Record a retry of `slots` (auto: counted against SLOT_RETRY_ATTEMPTS), then submit it. */
export async function startSlotRetry(
  deps: WorkerDeps,
  rec: TaskRecord,
  slots: readonly number[],
  auto: boolean,
  log: Logger,
): Promise<void> {
  const slotAttempt = rec.slotAttempt + 1;
  const providerTaskUUID = slotRetryProviderUuid(rec.taskUUID, slotAttempt);
  let subtasks: string[] = [];
  if (rec.mode === 'upload') {
    const fresh = uploadSubtaskUuids(providerTaskUUID, rec.expected);
    subtasks = rec.subtasks.map((sub, slot) => (slots.includes(slot) ? fresh[slot]! : sub));
  }
  const itemsCount = (await deps.tasks.receivedItems(rec.taskUUID)).length;
  await deps.tasks.slots.startRetry(rec.taskUUID, {
    providerTaskUUID,
    slotAttempt,
    auto,
    slots,
    subtasks,
    itemsCount,
  });
  deps.metrics.slotRetries.inc({ trigger: auto ? 'auto' : 'operator' });
  log.info({ slots, providerTaskUUID, slotAttempt, auto }, 'generating missing output slots again');
}

/** Submit the recorded slot retry; a refused one (not retryable) fails its slots. */
export async function submitSlotRetry(
  deps: WorkerDeps,
  task: QueuedTask,
  rec: TaskRecord,
  log: Logger,
): Promise<void> {
  const slots = await deps.tasks.slots.retrySlots(rec.taskUUID);
  const first = slots[0] ?? 0;
  const retryTask: QueuedTask = {
    ...task,
    numberResults: slots.length,
    // Webhook mode: the provider numbers the new task's seeds from its own 0, so start at the first slot.
    ...(task.seed !== undefined && rec.mode === 'webhook' ? { seed: offsetSeed(task.seed, first) } : {}),
  };
  const providerTasks = await buildProviderTasks(
    retryTask,
    {
      providerTaskUUID: rec.providerTaskUUID,
      subtasks: rec.mode === 'upload' ? slots.map((s) => rec.subtasks[s]!) : [],
      slots,
    },
    deliveryTarget(deps.config, rec.mode, activeTaskTrace()),
    deps.store,
  );
  try {
    for (const pt of providerTasks) {
      const attrs = { 'kr.provider_task_uuid': pt.taskUUID, 'kr.slots': slots.join(',') };
      await taskSpan('kr.submit', attrs, async (span) => {
        const outcome = await deps.client.submit(pt);
        span.setAttributes({ [ATTR.providerStatus]: outcome.status, [ATTR.outcome]: outcome.kind });
      });
    }
  } catch (e) {
    if (!(e instanceof ProviderError) || e.retryable || e.category === 'auth' || e.category === 'quota')
      throw e;
    const failures = slots.map(
      (slot): SlotFailure => ({
        slot,
        code: e.providerCode,
        message: e.message,
        stage: 'provider',
      }),
    );
    await deps.tasks.slots.failSlots(rec.taskUUID, failures);
    log.warn({ slots, code: e.providerCode }, 'the provider refused a slot retry; its slots failed');
  }
  const now = Date.now();
  await deps.tasks.slots.markRetrySubmitted(rec.taskUUID, {
    nextPollAt: now + deps.config.FIRST_POLL_AFTER_MS,
    deadlineAt: now + deps.config.RESULT_DEADLINE_MS,
  });
}
