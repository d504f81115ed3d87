// Redis keys owned by the events module, under the task keys' base (same `{QUEUE_PREFIX}` hash tag, so
// every multi-key script stays in one cluster slot). Candidates for TaskKeys once the layout settles.
import type { TaskKeys } from '../tasks/keys.js';

/** The consumer group of the outgoing webhook dispatcher on the events stream. */
export const DISPATCHER_GROUP = 'event-webhooks';

export class EventKeys {
  readonly base: string;
  constructor(keys: TaskKeys) {
    this.base = keys.base;
  }
  /** Sorted set: webhook-id → time of its next attempt (or lease end while being attempted). */
  deliveriesDue(): string {
    return `${this.base}event-deliveries`;
  }
  /** Hash: webhook-id → delivery JSON (target, body, attempts). */
  deliveries(): string {
    return `${this.base}event-deliveries:data`;
  }
  /** List: deliveries given up after the retry window, newest first (capped). */
  deadDeliveries(): string {
    return `${this.base}event-deliveries:dead`;
  }
  /** Hash: queue-level cost total and the stream id it has counted through. */
  queueCost(): string {
    return `${this.base}queue-cost`;
  }
}
