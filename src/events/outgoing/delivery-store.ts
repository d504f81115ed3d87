// Durable event-webhook deliveries in Redis: a hash of deliveries and a sorted set of when each is due.
// Scheduling happens in the same step as acknowledging the stream entry, and attempts are leased, so a
// restart (or a second dispatcher) neither loses nor doubles a delivery; retries keep their webhook-id.

import { codeOf } from '../../tasks/lua/script-codes.js';
import { type Scripted, scripted } from '../../tasks/lua/script-registry.js';
import type { RedisClient } from '../../tasks/task-store.js';
import { DISPATCHER_GROUP, type EventKeys } from '../event-keys.js';
import type { RelayEventType } from '../event-types.js';

/** Given-up deliveries kept for inspection. */
export const DEAD_DELIVERIES_KEPT = 1000;

export interface Delivery {
  /** The webhook-id header: stable for every attempt. */
  id: string;
  url: string;
  eventId: string;
  type: RelayEventType;
  /** The exact JSON body sent on every attempt. */
  body: string;
  /** Failed attempts so far. */
  attempts: number;
  /** When the delivery was scheduled: the retry window starts here. */
  firstAt: number;
  lastError?: string;
}

export class DeliveryStore {
  private readonly redis: Scripted;
  constructor(
    redis: RedisClient,
    private readonly keys: EventKeys,
    private readonly eventsKey: string,
    private readonly group = DISPATCHER_GROUP,
  ) {
    this.redis = scripted(redis);
  }

  /** Acknowledge a stream entry and schedule its deliveries (none: just acknowledge). */
  async scheduleAndAck(
    streamId: string,
    deliveries: readonly Delivery[],
    now = Date.now(),
  ): Promise<boolean> {
    const pairs = deliveries.flatMap((d) => [d.id, JSON.stringify(d)]);
    const r = await this.redis.krScheduleDeliveries(
      this.eventsKey,
      this.keys.deliveriesDue(),
      this.keys.deliveries(),
      this.group,
      streamId,
      now,
      ...pairs,
    );
    return codeOf('applied', r) === 'applied';
  }

  /** Lease up to `limit` due deliveries until `leaseUntil`. */
  async leaseDue(now: number, leaseUntil: number, limit: number): Promise<Delivery[]> {
    if (limit <= 0) return [];
    const rows = await this.redis.krLeaseDueDeliveries(
      this.keys.deliveriesDue(),
      this.keys.deliveries(),
      now,
      leaseUntil,
      limit,
    );
    return rows.map((r) => JSON.parse(r) as Delivery);
  }

  async complete(id: string): Promise<void> {
    const multi = this.redis.multi();
    multi.zrem(this.keys.deliveriesDue(), id);
    multi.hdel(this.keys.deliveries(), id);
    await multi.exec();
  }

  async reschedule(d: Delivery, at: number): Promise<void> {
    await this.redis.krRescheduleDelivery(
      this.keys.deliveriesDue(),
      this.keys.deliveries(),
      d.id,
      JSON.stringify(d),
      at,
    );
  }

  /** Past the retry window: drop it from the schedule and keep it in the dead list. */
  async giveUp(d: Delivery): Promise<void> {
    const multi = this.redis.multi();
    multi.zrem(this.keys.deliveriesDue(), d.id);
    multi.hdel(this.keys.deliveries(), d.id);
    multi.lpush(this.keys.deadDeliveries(), JSON.stringify(d));
    multi.ltrim(this.keys.deadDeliveries(), 0, DEAD_DELIVERIES_KEPT - 1);
    await multi.exec();
  }

  /** Deliveries waiting (due now or later, or being attempted). */
  async pending(): Promise<number> {
    return this.redis.zcard(this.keys.deliveriesDue());
  }

  async dead(limit = DEAD_DELIVERIES_KEPT): Promise<Delivery[]> {
    const rows = await this.redis.lrange(this.keys.deadDeliveries(), 0, limit - 1);
    return rows.map((r) => JSON.parse(r) as Delivery);
  }
}
