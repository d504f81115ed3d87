// Options and context of the outgoing-webhook dispatcher, shared by its intake and delivery loops.
import type { Config } from '../../config/load-config.js';
import type { Logger } from '../../log.js';
import type { EventsContext } from '../events-context.js';
import type { RetrySchedule } from './retry-schedule.js';

export interface EventDispatcherOptions {
  /** Service-wide target: receives every event. */
  url?: string | undefined;
  /** `whsec_…` secret signing every delivery (batch callback URLs included). */
  secret?: string | undefined;
  /** The secret before a rotation: deliveries carry its signature too until it is removed. */
  previousSecret?: string | undefined;
  /** Retry schedule (defaults: 5 s doubling to 1 h, for 24 h); tests pass milliseconds. */
  retry?: Partial<RetrySchedule>;
  /** One POST's time limit (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** How often due retries are looked for (default POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
  /** Pending stream entries idle this long are reclaimed from a dead dispatcher (default CLAIM_IDLE_MS). */
  claimIdleMs?: number;
  /** XREADGROUP block time (default INTAKE_BLOCK_MS). */
  blockMs?: number;
  /** Deliveries attempted at once (default DELIVERY_CONCURRENCY). */
  concurrency?: number;
  /** Consumer name in the group (default: host, pid and a random suffix). */
  consumer?: string;
  /** Where a NEW consumer group starts: `$` (default, only events from now on) or a stream id. */
  startFrom?: string;
  /** Failures in a row that disable an endpoint (default DEFAULT_DISABLE_AFTER). */
  disableAfter?: number;
  logger?: Logger;
}

export type DispatcherContext = Pick<EventsContext, 'redis' | 'tasks' | 'batches' | 'logger'>;

/** Options from the service config: EVENTS_WEBHOOK_URL, EVENTS_WEBHOOK_SECRET and its _PREVIOUS. */
export function dispatcherOptionsFromConfig(c: Config): EventDispatcherOptions {
  return {
    url: c.EVENTS_WEBHOOK_URL,
    secret: c.EVENTS_WEBHOOK_SECRET,
    previousSecret: c.EVENTS_WEBHOOK_SECRET_PREVIOUS,
    disableAfter: c.EVENTS_ENDPOINT_DISABLE_AFTER,
  };
}
