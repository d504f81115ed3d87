// Recovers lost or late webhooks: asks getResponse for every provider task still missing a result and
// records what it finds exactly as the webhook server would (same dedup), so a webhook arriving after
// this is a harmless duplicate.
import { ProviderError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QueuedTask } from '../tasks/job-data.js';
import type { TaskRecord } from '../tasks/types.js';
import { ATTR, taskSpan } from '../tracing/spans.js';
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
        // Records the item and logs its arrival by poll, in one script.
        const r = await deps.tasks.recordItem(providerTaskUUID, it.result, 'poll');
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
    await deps.poll.health.notePolled(recovered);
  }
  return { recovered, failed, errors };
}

export interface PollStep {
  /** Something was recorded (results or the provider's error): store or fail now. */
  progressed: boolean;
  /** When to look again if nothing progressed. */
  wakeAt: number;
}

/**
 * A poll that is due: first re-checked against the sketch as it is now (before the first poll only);
 * within the queue-wide budget (else parked until a token is free, without
 * counting as a poll); a transient failure is retried within seconds (jittered), not at the next
 * backed-off time; an empty answer backs off from the class median (poll-policy.ts).
 */
export async function pollWhenDue(
  deps: WorkerDeps,
  rec: TaskRecord,
  task: QueuedTask,
  log: Logger,
  now: number,
): Promise<PollStep> {
  if (rec.polls === 0 && rec.submittedAt !== undefined) {
    const recheckAt = await deps.poll.recheckDue(task, rec.submittedAt, now);
    if (recheckAt > now) return { progressed: false, wakeAt: recheckAt };
  }
  const wait = await deps.poll.pollPermit();
  if (wait > 0) return { progressed: false, wakeAt: now + wait };
  let polled: PollOutcome;
  try {
    polled = await taskSpan('kr.poll', {}, async (span) => {
      const out = await pollProvider(deps, rec);
      span.setAttributes({ [ATTR.recovered]: out.recovered, 'kr.provider_errors': out.errors ?? 0 });
      return out;
    });
  } catch (e) {
    if (e instanceof ProviderError && !e.retryable) throw e;
    const at = now + deps.poll.retryDelay();
    log.warn({ err: e }, 'getResponse failed; retrying shortly');
    await deps.tasks.setNextPoll(rec.taskUUID, at);
    return { progressed: false, wakeAt: at };
  }
  // Webhook mode: error bodies name no item, so the count a poll reports tells which slots failed.
  if (polled.errors && rec.mode === 'webhook')
    await deps.tasks.slots.noteAttemptErrors(rec.taskUUID, polled.errors);
  const at = now + (await deps.poll.afterEmptyPoll(task, rec.polls + 1));
  await deps.tasks.setNextPoll(rec.taskUUID, at);
  return { progressed: polled.recovered > 0 || polled.failed, wakeAt: at };
}
