// What an event webhook carries: the Standard Webhooks envelope {type, timestamp, data}, with data the
// event's fields plus its stream id (eventId), and a webhook-id that is stable per (event, target) so
// every retry of one delivery carries the same id and receivers can deduplicate.
import { createHash } from 'node:crypto';
import type { RelayEvent, RelayEventType } from '../event-types.js';

/** Hex digits of the target URL's hash in a webhook-id (distinguishes targets of one event). */
const TARGET_HASH_CHARS = 16;

export interface EventWebhookBody {
  type: RelayEventType;
  /** ISO 8601 time of the event. */
  timestamp: string;
  data: { eventId: string; taskUUID?: string; batchId?: string } & Record<string, unknown>;
}

export function webhookBody(ev: RelayEvent): EventWebhookBody {
  return {
    type: ev.type,
    timestamp: new Date(ev.at).toISOString(),
    data: {
      eventId: ev.id,
      ...('taskUUID' in ev ? { taskUUID: ev.taskUUID } : {}),
      ...(ev.batchId ? { batchId: ev.batchId } : {}),
      ...ev.data,
    },
  };
}

export function webhookId(eventId: string, targetUrl: string): string {
  const target = createHash('sha256').update(targetUrl).digest('hex').slice(0, TARGET_HASH_CHARS);
  return `msg_${eventId}_${target}`;
}
