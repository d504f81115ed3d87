// The webhook receiver's core, free of HTTP frameworks: authenticate the call, parse any of the three
// body shapes, record each item (deduplicated on taskUUID + imageUUID) durably in Redis, wake the job.
// Storage happens after the answer, in the task's job, so the answer stays fast and nothing is lost
// if this process dies after answering.
import { parseWebhookBody, taskUUIDSchema } from '../contract/index.js';
import { WebhookError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { DeliveryStats } from '../tasks/delivery-stats.js';
import type { RelayState } from '../tasks/relay-state.js';
import { wakeJob } from '../tasks/wake-job.js';
import { verifyWebhookToken } from '../tokens/webhook-token.js';
import { ATTR, annotateActiveSpan } from '../tracing/spans.js';

/** The task records and the queue from openRelayState, plus what the webhook server adds. */
export interface IngestDeps extends Pick<RelayState, 'tasks' | 'queue'> {
  /** WEBHOOK_SECRET, then WEBHOOK_SECRET_PREVIOUS during a rotation: a token signed by either passes. */
  secrets: readonly string[];
  metrics: RelayMetrics;
  logger: Logger;
  /** Latency sketch and webhook health (absent: nothing is learned from webhooks). */
  delivery?: DeliveryStats;
}

export interface WebhookCall {
  taskUUID: string;
  token: unknown;
  exp: unknown;
  body: unknown;
}

export interface IngestResult {
  received: number;
  duplicates: number;
  late: number;
  errors: number;
}

/**
 * Authenticate a call from its URL alone. Adapters run this before looking at the body, so an
 * unauthenticated caller learns nothing from content-type or JSON errors.
 */
export function authenticateWebhook(
  secrets: readonly string[],
  taskUUID: string,
  token: unknown,
  exp: unknown,
): void {
  if (!taskUUIDSchema.safeParse(taskUUID).success) {
    throw new WebhookError('WEBHOOK_BAD_TASK', 404, 'unknown task');
  }
  const check = verifyWebhookToken(secrets, taskUUID, token, exp);
  if (check !== 'ok') {
    throw new WebhookError(`WEBHOOK_TOKEN_${check.toUpperCase()}`, 401, `webhook token ${check}`);
  }
}

export async function ingestWebhook(deps: IngestDeps, call: WebhookCall): Promise<IngestResult> {
  authenticateWebhook(deps.secrets, call.taskUUID, call.token, call.exp);

  const parsed = parseWebhookBody(call.body);
  if (parsed.items.length === 0 && parsed.errors.length === 0) {
    throw new WebhookError(
      'WEBHOOK_BAD_BODY',
      400,
      `no result in body: ${parsed.invalid.join('; ') || 'empty'}`,
    );
  }
  const foreign = [...parsed.items, ...parsed.errors].find((x) => x.taskUUID && x.taskUUID !== call.taskUUID);
  if (foreign) {
    throw new WebhookError('WEBHOOK_TASK_MISMATCH', 403, 'body names another task than the URL token');
  }

  const out: IngestResult = { received: 0, duplicates: 0, late: 0, errors: 0 };
  let wake: string | undefined;
  let owner: string | undefined;
  for (const item of parsed.items) {
    const r = await deps.tasks.recordItem(call.taskUUID, item);
    if (r.kind === 'unknown') throw new WebhookError('WEBHOOK_UNKNOWN_TASK', 404, 'unknown task');
    // The kr.webhook span (when traced): which task, slot and image this call delivered.
    annotateActiveSpan({
      [ATTR.taskUUID]: r.jobId,
      [ATTR.imageUUID]: item.imageUUID,
      ...(r.kind === 'new' ? { [ATTR.slot]: r.slot } : {}),
    });
    if (r.kind === 'new') {
      out.received++;
      wake = r.jobId;
      await deps.tasks.noteArrival(r.jobId, r.slot, 'webhook');
    } else if (r.kind === 'duplicate' || r.kind === 'extra') out.duplicates++;
    else out.late++;
    if (r.kind !== 'late') owner = r.jobId;
    deps.metrics.webhooks.inc({ outcome: r.kind });
  }
  for (const err of parsed.errors) {
    const r = await deps.tasks.recordError(call.taskUUID, {
      code: err.code,
      message: err.message ?? 'the provider reported an error',
    });
    if (r.kind === 'unknown') throw new WebhookError('WEBHOOK_UNKNOWN_TASK', 404, 'unknown task');
    out.errors++;
    deps.metrics.webhooks.inc({ outcome: 'error' });
    if (r.kind === 'new') wake = r.jobId;
  }
  annotateActiveSpan({ [ATTR.outcome]: out.received ? 'new' : out.errors ? 'error' : 'duplicate' });
  if (wake) await wakeJob(deps.queue, wake);
  // The job id is the task's UUID (also for upload-mode subtasks): feed its latency and webhook health.
  if (deps.delivery && owner && (out.received || out.duplicates)) {
    if (await deps.delivery.noteWebhook(owner, out.received, out.duplicates)) {
      deps.logger.info('webhooks arrive again: new tasks are webhook-first (relay.webhooks_recovered)');
    }
  }
  if (out.duplicates || out.late) {
    deps.logger.debug({ taskUUID: call.taskUUID, ...out }, 'duplicate or late webhook acknowledged');
  }
  return out;
}
