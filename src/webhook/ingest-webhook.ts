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

/**
 * A call whose URL token authenticateWebhook verified. ingestWebhook takes only this, so a request's
 * token is verified exactly once (an HMAC per configured secret), by the adapter, before the body.
 */
export interface AuthenticatedCall {
  readonly taskUUID: string;
  readonly authenticated: true;
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
  metrics?: Pick<RelayMetrics, 'webhookTokenChecks'>,
): AuthenticatedCall {
  if (!taskUUIDSchema.safeParse(taskUUID).success) {
    throw new WebhookError('WEBHOOK_BAD_TASK', 404, 'unknown task');
  }
  const check = verifyWebhookToken(secrets, taskUUID, token, exp);
  metrics?.webhookTokenChecks.inc({ result: check });
  if (check !== 'ok') {
    throw new WebhookError(`WEBHOOK_TOKEN_${check.toUpperCase()}`, 401, `webhook token ${check}`);
  }
  return { taskUUID, authenticated: true };
}

export async function ingestWebhook(
  deps: IngestDeps,
  call: AuthenticatedCall,
  body: unknown,
): Promise<IngestResult> {
  const parsed = parseWebhookBody(body);
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
    // Records the item, logs its arrival and says whether the job is parked, in one script.
    const r = await deps.tasks.recordItem(call.taskUUID, item, 'webhook');
    if (r.kind === 'unknown') throw new WebhookError('WEBHOOK_UNKNOWN_TASK', 404, 'unknown task');
    // The kr.webhook span (when traced): which task, slot and image this call delivered.
    annotateActiveSpan({
      [ATTR.taskUUID]: r.jobId,
      [ATTR.imageUUID]: item.imageUUID,
      ...(r.kind === 'new' ? { [ATTR.slot]: r.slot } : {}),
    });
    if (r.kind === 'new') {
      out.received++;
      // A job that is not parked needs no wake: a waiting one runs anyway, and an active one
      // re-checks for new work after it parks (TaskStore.hasNewWork).
      if (r.parked) wake = r.jobId;
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
  // Once the items are recorded (and their arrivals logged), the wake-up — only for a parked job — and
  // the delivery stats go out together, back to back on the one connection (one round trip, not two).
  const { delivery } = deps;
  const woken = wake ? wakeJob(deps.queue, wake) : false;
  // The job id is the task's UUID (also for upload-mode subtasks): feed its latency and webhook health.
  const noted =
    delivery && owner && (out.received || out.duplicates)
      ? delivery.noteWebhook(owner, out.received, out.duplicates)
      : false;
  const [, recovered] = await Promise.all([woken, noted]);
  if (recovered) {
    deps.logger.info('webhooks arrive again: new tasks are webhook-first (relay.webhooks_recovered)');
  }
  if (out.duplicates || out.late) {
    deps.logger.debug({ taskUUID: call.taskUUID, ...out }, 'duplicate or late webhook acknowledged');
  }
  return out;
}
