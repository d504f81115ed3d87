// The durable outgoing-webhook dispatcher: intake (events stream → deliveries scheduled in Redis, via a
// consumer group) and delivery (leased, signed POSTs, retried with backoff for up to a day). Both resume
// after a restart from what Redis holds, so no event is lost; a retry keeps its webhook-id.
// Targets come from the operator (EVENTS_WEBHOOK_URL, and a batch's callbackUrl given by whoever can
// enqueue), never from an unauthenticated source, so no SSRF guard is applied to them.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { EventKeys } from '../event-keys.js';
import { duplicateConnection } from '../subscribe-events.js';
import { DeliveryLog } from './delivery-log.js';
import { DELIVERY_CONCURRENCY, DeliveryLoop, POLL_INTERVAL_MS, REQUEST_TIMEOUT_MS } from './delivery-loop.js';
import { DeliveryStore } from './delivery-store.js';
import type { DispatcherContext, EventDispatcherOptions } from './dispatcher-options.js';
import { EventIntake } from './event-intake.js';
import { checkWebhookSecret } from './event-webhook-signature.js';
import { DEFAULT_RETRY_SCHEDULE } from './retry-schedule.js';

export type { DispatcherContext, EventDispatcherOptions } from './dispatcher-options.js';
export { dispatcherOptionsFromConfig } from './dispatcher-options.js';

export interface EventDispatcher {
  /** Stops reading, lets attempts in flight finish, closes its connections. Deliveries stay in Redis. */
  stop(): Promise<void>;
}

export async function startEventDispatcher(
  ctx: DispatcherContext,
  opts: EventDispatcherOptions = {},
): Promise<EventDispatcher> {
  checkSecret(opts);
  const log = (opts.logger ?? ctx.logger ?? silentLogger).child({ component: 'event-dispatcher' });
  const keys = new EventKeys(ctx.tasks.keys);
  const store = new DeliveryStore(ctx.redis, keys, ctx.tasks.keys.events());
  const deliveryLog = new DeliveryLog(ctx.redis, keys, ctx.tasks.keys.events(), opts.disableAfter);
  // Without a secret nothing can be signed: deliveries wait in Redis until one is configured.
  const delivery = opts.secret
    ? new DeliveryLoop(
        store,
        {
          secrets: opts.previousSecret ? [opts.secret, opts.previousSecret] : [opts.secret],
          schedule: { ...DEFAULT_RETRY_SCHEDULE, ...opts.retry },
          timeoutMs: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
          pollIntervalMs: opts.pollIntervalMs ?? POLL_INTERVAL_MS,
          concurrency: opts.concurrency ?? DELIVERY_CONCURRENCY,
        },
        log,
        deliveryLog,
      )
    : undefined;
  const blocking = duplicateConnection(ctx.redis);
  const consumer = opts.consumer ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const intake = new EventIntake(ctx, opts, store, blocking, consumer, log, () => delivery?.kick());
  try {
    await intake.ensureGroup();
  } catch (e) {
    blocking.disconnect();
    throw e;
  }
  const loops = [intake.run(), delivery?.run()];
  return {
    async stop() {
      intake.stop();
      delivery?.stop();
      blocking.disconnect(); // ends a pending XREADGROUP at once
      await Promise.all(loops);
      await intake.forgetConsumerIfIdle();
    },
  };
}

function checkSecret(opts: EventDispatcherOptions): void {
  if (opts.url && !opts.secret)
    throw new ConfigError('EVENTS_WEBHOOK_SECRET must be set to send event webhooks');
  if (opts.previousSecret && !opts.secret)
    throw new ConfigError('EVENTS_WEBHOOK_SECRET_PREVIOUS is set without EVENTS_WEBHOOK_SECRET');
  for (const [name, value] of [
    ['EVENTS_WEBHOOK_SECRET', opts.secret],
    ['EVENTS_WEBHOOK_SECRET_PREVIOUS', opts.previousSecret],
  ] as const) {
    if (!value) continue;
    try {
      checkWebhookSecret(value);
    } catch (e) {
      throw new ConfigError(`${name} is not a whsec_ secret: ${(e as Error).message}`);
    }
  }
}
