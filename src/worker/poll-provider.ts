// Recovers lost or late webhooks: asks getResponse for every provider task still missing a result and
// records what it finds exactly as the webhook server would (same dedup), so a webhook arriving after
// this is a harmless duplicate.
import type { TaskRecord } from '../tasks/types.js';
import type { WorkerDeps } from './worker-deps.js';

export interface PollOutcome {
  recovered: number;
  failed: boolean;
  /** Failed items the provider listed (webhook mode: of the current provider task). */
  errors?: number;
}

export async function pollProvider(deps: WorkerDeps, rec: TaskRecord): Promise<PollOutcome> {
  const received = await deps.tasks.receivedItems(rec.taskUUID);
  // Upload mode: one provider task per slot; only the slots with nothing received need asking.
  const have = new Set(received.map((r) => r.slot));
  const providerTasks =
    rec.mode === 'upload' ? rec.subtasks.filter((_, slot) => !have.has(slot)) : [rec.providerTaskUUID];
  let recovered = 0;
  let failed = false;
  let errors = 0;
  for (const providerTaskUUID of providerTasks) {
    const items = await deps.client.getResponse(providerTaskUUID);
    for (const it of items) {
      if (it.state === 'success') {
        const r = await deps.tasks.recordItem(providerTaskUUID, it.result);
        if (r.kind === 'new') recovered++;
      } else if (it.state === 'error') {
        await deps.tasks.recordError(providerTaskUUID, {
          code: it.error.code,
          message: it.error.message ?? 'the provider reported an error',
        });
        failed = true;
        errors++;
      }
    }
  }
  if (recovered > 0) {
    deps.metrics.recoveredByPolling.inc(recovered);
    deps.logger.info({ taskUUID: rec.taskUUID, recovered }, 'results recovered by polling');
  }
  return { recovered, failed, errors };
}

/** Next poll delay: the first after FIRST_POLL_AFTER_MS, then doubling up to MAX_POLL_INTERVAL_MS. */
export function nextPollDelay(polls: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(polls, 20));
}
