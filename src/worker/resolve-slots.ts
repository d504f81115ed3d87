// Decides the provider side of each output slot: still coming, generated (received), or failed by the
// provider. Missing slots after a retryable item error are generated again, by a new provider task
// for those slots only (SLOT_RETRY_ATTEMPTS times); otherwise they fail with the provider's reason.
// Webhook-mode error bodies name no item, so getResponse's full state says how many items failed.
import type { Logger } from '../log.js';
import { toProviderError } from '../provider/classify-error.js';
import type { QueuedTask } from '../tasks/job-data.js';
import type { ProviderFailure, SlotFailure, TaskRecord } from '../tasks/types.js';
import { pollProvider } from './poll-provider.js';
import { startSlotRetry, submitSlotRetry } from './retry-slots.js';
import type { StoreProgress } from './store-outputs.js';
import type { WorkerDeps } from './worker-deps.js';

export type SlotVerdict =
  /** Every slot is stored or failed: the task ends. */
  | { kind: 'ended'; failed: SlotFailure[] }
  /** A slot retry was submitted (or failed at submit): read the record again. */
  | { kind: 'changed' }
  | { kind: 'waiting' };

export async function resolveSlots(
  deps: WorkerDeps,
  task: QueuedTask,
  rec: TaskRecord,
  progress: StoreProgress,
  log: Logger,
): Promise<SlotVerdict> {
  if (rec.retrySubmit) {
    await submitSlotRetry(deps, task, rec, log);
    return { kind: 'changed' };
  }
  const failedSlots = new Set(progress.failed.map((f) => f.slot));
  const endedCount = progress.outputs.length + progress.failed.length;
  if (endedCount >= rec.expected) return { kind: 'ended', failed: progress.failed };
  const missing = Array.from({ length: rec.expected }, (_, s) => s).filter(
    (s) => !progress.receivedSlots.has(s) && !failedSlots.has(s),
  );
  if (rec.needsSlotRetry) {
    if (missing.length > 0) {
      await startSlotRetry(deps, rec, missing, false, log);
      return { kind: 'changed' };
    }
    await deps.tasks.slots.clearNeedsSlotRetry(rec.taskUUID);
  }
  if (missing.length === 0) {
    // Errors reported again for slots that already ended (a poll of a failed provider task): seen,
    // so that parking does not wake the job at once for them.
    if (rec.errorSignals > rec.errorsSeen)
      await deps.tasks.slots.markErrorsSeen(rec.taskUUID, rec.errorSignals);
    return { kind: 'waiting' };
  }
  const providerFailed =
    rec.mode === 'upload'
      ? await uploadSlotErrors(deps, rec, missing)
      : await webhookSlotErrors(deps, rec, progress, missing, log);
  if (!providerFailed) return { kind: 'waiting' };
  const { slots, error } = providerFailed;
  const retryable = toProviderError({ code: error.code, message: error.message }).retryable;
  if (retryable && rec.autoRetries < deps.config.SLOT_RETRY_ATTEMPTS) {
    await startSlotRetry(deps, rec, slots, true, log);
    return { kind: 'changed' };
  }
  const failures = slots.map((slot): SlotFailure => ({ slot, ...error, stage: 'provider' }));
  await deps.tasks.slots.failSlots(rec.taskUUID, failures);
  for (const f of failures) deps.metrics.slotsFailed.inc({ code: f.code });
  log.warn({ slots, code: error.code, retried: rec.autoRetries }, 'output slots failed at the provider');
  return { kind: 'changed' };
}

/** Upload mode: one provider task per slot, so each item error names its slot. */
async function uploadSlotErrors(
  deps: WorkerDeps,
  rec: TaskRecord,
  missing: readonly number[],
): Promise<{ slots: number[]; error: ProviderFailure } | undefined> {
  if (rec.errorSignals > rec.errorsSeen)
    await deps.tasks.slots.markErrorsSeen(rec.taskUUID, rec.errorSignals);
  const errors = await deps.tasks.slots.slotErrors(rec.taskUUID);
  const slots = missing.filter((s) => errors.has(s));
  const first = slots[0];
  return first === undefined ? undefined : { slots, error: errors.get(first)! };
}

/**
 * Webhook mode: the current provider task asked for `attemptResults` items; once received + failed
 * items account for all of them, the slots still missing failed. An error webhook (a new error
 * signal) makes us ask getResponse for the count at once.
 */
async function webhookSlotErrors(
  deps: WorkerDeps,
  rec: TaskRecord,
  progress: StoreProgress,
  missing: readonly number[],
  log: Logger,
): Promise<{ slots: number[]; error: ProviderFailure } | undefined> {
  const receivedInAttempt = progress.received - rec.attemptBase;
  // providerError is the current provider task's first error: at least one item failed, even when
  // getResponse does not list failed items.
  let errors = Math.max(rec.attemptErrors, rec.providerError ? 1 : 0);
  if (rec.errorSignals > rec.errorsSeen) {
    if (receivedInAttempt + errors < rec.attemptResults) {
      const polled = await pollProvider(deps, rec).catch((err: unknown) => {
        log.warn({ err }, 'getResponse after an item error failed; the next poll will tell');
        return undefined;
      });
      if (polled?.errors !== undefined && polled.errors > errors) {
        errors = polled.errors;
        await deps.tasks.slots.noteAttemptErrors(rec.taskUUID, errors);
      }
    }
    await deps.tasks.slots.markErrorsSeen(rec.taskUUID, rec.errorSignals);
  }
  if (errors === 0 || receivedInAttempt + errors < rec.attemptResults) return undefined;
  const error = rec.providerError ?? { code: 'unknown', message: 'the provider reported an item error' };
  return { slots: [...missing], error };
}
