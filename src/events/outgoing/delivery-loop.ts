// Dispatcher delivery: leases due deliveries, signs and POSTs them, and on failure schedules the next
// attempt by the retry schedule, or gives the delivery up (dead list) once past the retry window.
import type { Logger } from '../../log.js';
import type { DeliveryLog } from './delivery-log.js';
import type { Delivery, DeliveryStore } from './delivery-store.js';
import { signEventWebhook } from './event-webhook-signature.js';
import { createWebhookAgent, postWebhook } from './post-webhook.js';
import { type RetrySchedule, retryDelayMs, withinRetryWindow } from './retry-schedule.js';

/** One POST's time limit; a receiver that needs longer should answer 2xx and work afterwards. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** A lease outlives the POST by this much, so a slow answer is not attempted twice. */
const LEASE_MARGIN_MS = 5_000;
/** How often due retries are looked for (new deliveries kick the loop at once). */
export const POLL_INTERVAL_MS = 1_000;
export const DELIVERY_CONCURRENCY = 16;
/** lastError of a delivery given up because its endpoint is disabled (replay it once re-enabled). */
export const ENDPOINT_DISABLED_ERROR = 'endpoint disabled';

export interface DeliveryLoopOptions {
  /** The current secret, then the previous one during a rotation: each signs every delivery. */
  secrets: readonly string[];
  schedule: RetrySchedule;
  timeoutMs: number;
  pollIntervalMs: number;
  concurrency: number;
}

export class DeliveryLoop {
  private readonly agent = createWebhookAgent();
  private readonly inFlight = new Set<Promise<void>>();
  private running = true;
  private wake: (() => void) | undefined;
  private kicked = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly opts: DeliveryLoopOptions,
    private readonly log: Logger,
    /** Records every attempt and disables endpoints that keep failing (issue 15). */
    private readonly deliveryLog?: DeliveryLog,
  ) {}

  async run(): Promise<void> {
    while (this.running) {
      try {
        const now = Date.now();
        const leaseUntil = now + this.opts.timeoutMs + LEASE_MARGIN_MS;
        const due = await this.store.leaseDue(now, leaseUntil, this.opts.concurrency - this.inFlight.size);
        for (const d of due) this.track(this.attempt(d));
      } catch (err) {
        this.log.warn({ err }, 'reading due event webhooks failed; retrying');
      }
      await this.pause(this.opts.pollIntervalMs);
    }
    await Promise.all(this.inFlight);
    await this.agent.close();
  }

  /** Ends run() after the attempts in flight finish. */
  stop(): void {
    this.running = false;
    this.kick();
  }

  /** Look for due deliveries now rather than at the next poll. */
  kick(): void {
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) =>
        this.log.warn({ err }, 'event webhook bookkeeping failed; its lease will expire'),
      )
      .finally(() => {
        this.inFlight.delete(tracked);
        this.kick();
      });
    this.inFlight.add(tracked);
  }

  private async attempt(d: Delivery): Promise<void> {
    const log = this.log.child({ webhookId: d.id, url: d.url, type: d.type });
    if (await this.deliveryLog?.isDisabled(d.url)) {
      await this.store.giveUp({ ...d, lastError: ENDPOINT_DISABLED_ERROR });
      log.debug('event webhook not sent: its endpoint is disabled');
      return;
    }
    const headers = signEventWebhook(this.opts.secrets, d.id, d.body);
    const started = performance.now();
    const r = await postWebhook(this.agent, d.url, { ...headers }, d.body, this.opts.timeoutMs);
    const verdict = await this.deliveryLog?.record(d.url, {
      webhookId: d.id,
      eventId: d.eventId,
      type: d.type,
      attempt: d.attempts + 1,
      ok: r.ok,
      status: r.status ?? null,
      latencyMs: performance.now() - started,
      error: r.ok ? '' : r.error,
    });
    if (verdict === 'disabled') log.warn('event webhook endpoint disabled after failing too often in a row');
    if (r.ok) {
      await this.store.complete(d.id);
      log.debug({ attempts: d.attempts + 1 }, 'event webhook delivered');
      return;
    }
    const failed: Delivery = { ...d, attempts: d.attempts + 1, lastError: r.error };
    const nextAt = Date.now() + retryDelayMs(failed.attempts, this.opts.schedule);
    if (verdict !== 'disabled' && withinRetryWindow(d.firstAt, nextAt, this.opts.schedule)) {
      await this.store.reschedule(failed, nextAt);
      log.info({ attempts: failed.attempts, error: r.error, nextAt }, 'event webhook failed; will retry');
    } else {
      await this.store.giveUp(failed);
      log.warn(
        { attempts: failed.attempts, error: r.error },
        'event webhook given up after the retry window',
      );
    }
  }

  /** The loop's pause: ends early on kick() (new deliveries, a free slot) or stop(). */
  private pause(ms: number): Promise<void> {
    if (!this.running || this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
