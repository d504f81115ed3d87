// The durable outgoing-webhook dispatcher. Intake reads the events stream through a consumer group
// (XREADGROUP; pending entries of a dead dispatcher are reclaimed with XAUTOCLAIM) and turns each event
// into deliveries, scheduled in Redis in the same step as the XACK. Delivery leases due deliveries,
// signs and POSTs them, and reschedules failures with backoff for up to a day. A restart resumes both.
// Targets come from the operator (EVENTS_WEBHOOK_URL, a batch's callbackUrl set by whoever enqueued it
// with access to the producer), never from an unauthenticated source, so no SSRF guard is applied.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../../config/load-config.js';
import { ConfigError } from '../../errors.js';
import { type Logger, silentLogger } from '../../log.js';
import type { RedisClient } from '../../tasks/task-store.js';
import { DISPATCHER_GROUP, EventKeys } from '../event-keys.js';
import { parseStreamEntry, type RelayEvent } from '../event-types.js';
import type { EventsContext } from '../events-context.js';
import { foldQueueCost } from '../queue-cost.js';
import {
  duplicateConnection,
  firstStreamEntries,
  type StreamEntry,
  type StreamReader,
} from '../subscribe-events.js';
import { type Delivery, DeliveryStore } from './delivery-store.js';
import { checkWebhookSecret, signEventWebhook } from './event-webhook-signature.js';
import { createWebhookAgent, postWebhook } from './post-webhook.js';
import {
  DEFAULT_RETRY_SCHEDULE,
  type RetrySchedule,
  retryDelayMs,
  withinRetryWindow,
} from './retry-schedule.js';
import { webhookBody, webhookId } from './webhook-body.js';

/** One POST's time limit; a receiver that needs longer should answer 2xx and work afterwards. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** A lease outlives the POST by this much, so a slow answer is not attempted twice. */
const LEASE_MARGIN_MS = 5_000;
/** How often due retries are looked for (new events kick the loop at once). */
export const POLL_INTERVAL_MS = 1_000;
/** XREADGROUP block time; stop() cuts it short. */
const INTAKE_BLOCK_MS = 5_000;
/** Pending entries idle this long belong to a dead dispatcher and are reclaimed. */
export const CLAIM_IDLE_MS = 60_000;
const INTAKE_BATCH = 100;
export const DELIVERY_CONCURRENCY = 16;
/** Pause after a Redis error before trying again. */
const ERROR_BACKOFF_MS = 1_000;

export interface EventDispatcherOptions {
  /** Service-wide target: receives every event. */
  url?: string | undefined;
  /** `whsec_…` secret signing every delivery (also to batch callback URLs). */
  secret?: string | undefined;
  retry?: Partial<RetrySchedule>;
  requestTimeoutMs?: number;
  pollIntervalMs?: number;
  claimIdleMs?: number;
  blockMs?: number;
  concurrency?: number;
  /** Consumer name in the group (default: host, pid and a random suffix). */
  consumer?: string;
  /** Where a NEW consumer group starts: `$` (default, only events from now on) or a stream id. */
  startFrom?: string;
  logger?: Logger;
}

export type DispatcherContext = Pick<EventsContext, 'redis' | 'tasks' | 'batches' | 'logger'>;

export interface EventDispatcher {
  /** Stops reading, lets attempts in flight finish, closes its connections. Deliveries stay in Redis. */
  stop(): Promise<void>;
}

/** Options from the service config: EVENTS_WEBHOOK_URL and EVENTS_WEBHOOK_SECRET. */
export function dispatcherOptionsFromConfig(c: Config): EventDispatcherOptions {
  return { url: c.EVENTS_WEBHOOK_URL, secret: c.EVENTS_WEBHOOK_SECRET };
}

export async function startEventDispatcher(
  ctx: DispatcherContext,
  opts: EventDispatcherOptions = {},
): Promise<EventDispatcher> {
  if (opts.url && !opts.secret)
    throw new ConfigError('EVENTS_WEBHOOK_SECRET must be set to send event webhooks');
  if (opts.secret) {
    try {
      checkWebhookSecret(opts.secret);
    } catch (e) {
      throw new ConfigError(`EVENTS_WEBHOOK_SECRET is not a whsec_ secret: ${(e as Error).message}`);
    }
  }
  const d = new Dispatcher(ctx, opts);
  await d.start();
  return { stop: () => d.stop() };
}

class Dispatcher {
  private readonly log: Logger;
  private readonly store: DeliveryStore;
  private readonly eventsKey: string;
  private readonly consumer: string;
  private readonly schedule: RetrySchedule;
  private readonly timeoutMs: number;
  private readonly agent = createWebhookAgent();
  private readonly blocking: RedisClient;
  private readonly inFlight = new Set<Promise<void>>();
  private running = true;
  private loops: Promise<void>[] = [];
  private wake: (() => void) | undefined;
  private kicked = false;
  private warnedNoSecret = false;

  constructor(
    private readonly ctx: DispatcherContext,
    private readonly opts: EventDispatcherOptions,
  ) {
    this.log = (opts.logger ?? ctx.logger ?? silentLogger).child({ component: 'event-dispatcher' });
    this.eventsKey = ctx.tasks.keys.events();
    this.store = new DeliveryStore(ctx.redis, new EventKeys(ctx.tasks.keys), this.eventsKey);
    this.consumer = opts.consumer ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.schedule = { ...DEFAULT_RETRY_SCHEDULE, ...opts.retry };
    this.timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.blocking = duplicateConnection(ctx.redis);
  }

  async start(): Promise<void> {
    try {
      await this.ctx.redis.xgroup(
        'CREATE',
        this.eventsKey,
        DISPATCHER_GROUP,
        this.opts.startFrom ?? '$',
        'MKSTREAM',
      );
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    this.loops = [this.intakeLoop(), this.deliveryLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    this.blocking.disconnect();
    await Promise.all(this.loops);
    await this.forgetConsumerIfIdle();
    await this.agent.close();
  }

  // ---- intake: stream → scheduled deliveries

  private async intakeLoop(): Promise<void> {
    let ownPendingDone = false;
    let lastClaim = 0;
    const claimIdleMs = this.opts.claimIdleMs ?? CLAIM_IDLE_MS;
    while (this.running) {
      try {
        if (!ownPendingDone) {
          // Entries handed to this consumer name before a restart, not yet acknowledged.
          const own = await this.readGroup('0', undefined);
          ownPendingDone = own.length === 0;
          await this.intake(own);
          continue;
        }
        if (Date.now() - lastClaim >= claimIdleMs) {
          lastClaim = Date.now();
          await this.intake(await this.claimStale(claimIdleMs));
        }
        await this.intake(await this.readGroup('>', this.opts.blockMs ?? INTAKE_BLOCK_MS));
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err }, 'event intake failed; retrying');
        await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
      }
    }
  }

  private async readGroup(id: '0' | '>', blockMs: number | undefined): Promise<StreamEntry[]> {
    const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
    const reply = await (this.blocking as unknown as StreamReader).xreadgroup(
      'GROUP',
      DISPATCHER_GROUP,
      this.consumer,
      'COUNT',
      INTAKE_BATCH,
      ...block,
      'STREAMS',
      this.eventsKey,
      id,
    );
    return firstStreamEntries(reply);
  }

  private async claimStale(minIdleMs: number): Promise<StreamEntry[]> {
    const reply = (await this.ctx.redis.call(
      'XAUTOCLAIM',
      this.eventsKey,
      DISPATCHER_GROUP,
      this.consumer,
      minIdleMs,
      '0-0',
      'COUNT',
      INTAKE_BATCH,
    )) as [string, StreamEntry[], string[]?];
    return reply[1] ?? [];
  }

  private async intake(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const [id, fields] of entries) {
      // A trimmed entry comes back without fields: acknowledge it and move on.
      const ev = fields ? parseStreamEntry(id, fields) : null;
      const deliveries = ev ? await this.deliveriesFor(ev) : [];
      await this.store.scheduleAndAck(id, deliveries);
    }
    this.kick();
    // Keep the queue cost total folded as events go by, well ahead of stream trimming.
    await foldQueueCost(this.ctx);
  }

  private async deliveriesFor(ev: RelayEvent): Promise<Delivery[]> {
    const urls = new Set<string>();
    if (this.opts.url) urls.add(this.opts.url);
    if (ev.batchId) {
      const callbackUrl = (await this.ctx.batches.get(ev.batchId))?.callbackUrl;
      if (callbackUrl && this.opts.secret) urls.add(callbackUrl);
      else if (callbackUrl && !this.warnedNoSecret) {
        this.warnedNoSecret = true;
        this.log.warn(
          { batchId: ev.batchId },
          'batch callback URLs are not called: EVENTS_WEBHOOK_SECRET is not set',
        );
      }
    }
    const body = JSON.stringify(webhookBody(ev));
    const now = Date.now();
    return [...urls].map((url) => ({
      id: webhookId(ev.id, url),
      url,
      eventId: ev.id,
      type: ev.type,
      body,
      attempts: 0,
      firstAt: now,
    }));
  }

  // ---- delivery: due deliveries → signed POSTs

  private async deliveryLoop(): Promise<void> {
    const concurrency = this.opts.concurrency ?? DELIVERY_CONCURRENCY;
    const pollMs = this.opts.pollIntervalMs ?? POLL_INTERVAL_MS;
    while (this.running) {
      try {
        if (this.opts.secret) {
          const now = Date.now();
          const leaseUntil = now + this.timeoutMs + LEASE_MARGIN_MS;
          const due = await this.store.leaseDue(now, leaseUntil, concurrency - this.inFlight.size);
          for (const d of due) this.track(this.attempt(d, this.opts.secret));
        }
      } catch (err) {
        this.log.warn({ err }, 'reading due event webhooks failed; retrying');
      }
      await this.pause(pollMs);
    }
    await Promise.all(this.inFlight);
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.log.warn({ err }, 'event webhook bookkeeping failed; lease will expire'))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.kick();
      });
    this.inFlight.add(tracked);
  }

  private async attempt(d: Delivery, secret: string): Promise<void> {
    const headers = signEventWebhook(secret, d.id, d.body);
    const r = await postWebhook(this.agent, d.url, { ...headers }, d.body, this.timeoutMs);
    const log = this.log.child({ webhookId: d.id, url: d.url, type: d.type });
    if (r.ok) {
      await this.store.complete(d.id);
      log.debug({ attempts: d.attempts + 1 }, 'event webhook delivered');
      return;
    }
    const failed: Delivery = { ...d, attempts: d.attempts + 1, lastError: r.error };
    const nextAt = Date.now() + retryDelayMs(failed.attempts, this.schedule);
    if (withinRetryWindow(d.firstAt, nextAt, this.schedule)) {
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

  // ---- plumbing

  /** The delivery loop's pause: ends early on kick() (new deliveries, a free slot) or stop(). */
  private pause(ms: number): Promise<void> {
    if (!this.running || this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private kick(): void {
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  /** A consumer with nothing pending can go; one with pending entries stays so they are reclaimed. */
  private async forgetConsumerIfIdle(): Promise<void> {
    try {
      const pending = (await this.ctx.redis.call(
        'XPENDING',
        this.eventsKey,
        DISPATCHER_GROUP,
        '-',
        '+',
        1,
        this.consumer,
      )) as unknown[];
      if (pending.length === 0)
        await this.ctx.redis.call('XGROUP', 'DELCONSUMER', this.eventsKey, DISPATCHER_GROUP, this.consumer);
    } catch (err) {
      this.log.debug({ err }, 'could not remove the idle consumer');
    }
  }
}
