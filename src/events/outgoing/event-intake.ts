// Dispatcher intake: reads the events stream through the consumer group and turns each event into its
// deliveries (service URL, the batch's callbackUrl), scheduled in the same atomic step as the XACK.
// Entries it read but did not acknowledge (a crash) are read again on restart under the same consumer
// name, or reclaimed with XAUTOCLAIM by any dispatcher once idle for claimIdleMs.
import type { Logger } from '../../log.js';
import type { RedisClient } from '../../tasks/task-store.js';
import { DISPATCHER_GROUP } from '../event-keys.js';
import { parseStreamEntry, type RelayEvent } from '../event-types.js';
import { foldQueueCost } from '../queue-cost.js';
import { firstStreamEntries, type StreamEntry, type StreamReader } from '../subscribe-events.js';
import type { Delivery, DeliveryStore } from './delivery-store.js';
import type { DispatcherContext, EventDispatcherOptions } from './dispatcher-options.js';
import { webhookBody, webhookId } from './webhook-body.js';

/** XREADGROUP block time; stop() cuts it short by closing the connection. */
export const INTAKE_BLOCK_MS = 5_000;
/** Pending entries idle this long belong to a dead dispatcher and are reclaimed. */
export const CLAIM_IDLE_MS = 60_000;
const INTAKE_BATCH = 100;
/** Pause after a Redis error before trying again. */
const ERROR_BACKOFF_MS = 1_000;

export class EventIntake {
  private running = true;
  private warnedNoSecret = false;
  private readonly eventsKey: string;

  constructor(
    private readonly ctx: DispatcherContext,
    private readonly opts: EventDispatcherOptions,
    private readonly store: DeliveryStore,
    /** A connection of its own: XREADGROUP blocks it. */
    private readonly blocking: RedisClient,
    private readonly consumer: string,
    private readonly log: Logger,
    /** Called after deliveries were scheduled, to start them without waiting for the next poll. */
    private readonly onScheduled: () => void,
  ) {
    this.eventsKey = ctx.tasks.keys.events();
  }

  /** Creates the group on first use (at `startFrom`, default `$`). */
  async ensureGroup(): Promise<void> {
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
  }

  async run(): Promise<void> {
    let ownPendingDone = false;
    let lastClaim = 0;
    const claimIdleMs = this.opts.claimIdleMs ?? CLAIM_IDLE_MS;
    while (this.running) {
      try {
        if (!ownPendingDone) {
          // Entries handed to this consumer name earlier and not yet acknowledged.
          const own = await this.readGroup('0', undefined);
          ownPendingDone = own.length === 0;
          await this.take(own);
          continue;
        }
        if (Date.now() - lastClaim >= claimIdleMs) {
          lastClaim = Date.now();
          await this.take(await this.claimStale(claimIdleMs));
        }
        await this.take(await this.readGroup('>', this.opts.blockMs ?? INTAKE_BLOCK_MS));
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err }, 'event intake failed; retrying');
        ownPendingDone = false; // what was read but not scheduled is in our pending list: take it first
        await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS));
      }
    }
  }

  /** Ends run(): the caller closes the blocking connection to cut a pending read short. */
  stop(): void {
    this.running = false;
  }

  /** A consumer with nothing pending can go; one with pending entries stays so they are reclaimed. */
  async forgetConsumerIfIdle(): Promise<void> {
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
    // XAUTOCLAIM answers an array (never a RESP3 map), so call() returns it as is.
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

  private async take(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const [id, fields] of entries) {
      // A trimmed entry comes back without fields: acknowledge it and move on.
      const ev = fields ? parseStreamEntry(id, fields) : null;
      const deliveries = ev ? await this.deliveriesFor(ev) : [];
      await this.store.scheduleAndAck(id, deliveries);
    }
    this.onScheduled();
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
}
