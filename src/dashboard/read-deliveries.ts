// The delivery log as the dashboard reads it: endpoints with their latest attempts, their dead letters
// and how many deliveries to them are still scheduled.
import { EventKeys } from '../events/event-keys.js';
import { DeliveryLog } from '../events/outgoing/delivery-log.js';
import { DeliveryStore } from '../events/outgoing/delivery-store.js';
import type { DashboardContext } from './dashboard-context.js';
import type { EndpointView } from './render-deliveries-page.js';

/** Attempts listed per endpoint on the page (the log keeps more: ATTEMPTS_KEPT). */
export const ATTEMPTS_SHOWN = 50;
/** Scheduled deliveries are counted per endpoint only up to this many (beyond, the page shows "many"). */
export const PENDING_COUNT_MAX = 10_000;

type Ctx = Pick<DashboardContext, 'redis' | 'tasks'>;

export function deliveryLogOf(ctx: Ctx): DeliveryLog {
  return new DeliveryLog(ctx.redis, new EventKeys(ctx.tasks.keys), ctx.tasks.keys.events());
}

export async function readDeliveries(ctx: Ctx): Promise<EndpointView[]> {
  const keys = new EventKeys(ctx.tasks.keys);
  const log = deliveryLogOf(ctx);
  const store = new DeliveryStore(ctx.redis, keys, ctx.tasks.keys.events());
  const total = await ctx.redis.hlen(keys.deliveries());
  const [endpoints, dead, scheduled] = await Promise.all([
    log.endpoints(),
    store.dead(),
    total <= PENDING_COUNT_MAX ? ctx.redis.hvals(keys.deliveries()) : Promise.resolve(null),
  ]);
  const pendingByUrl = new Map<string, number>();
  for (const row of scheduled ?? []) {
    const url = (JSON.parse(row) as { url: string }).url;
    pendingByUrl.set(url, (pendingByUrl.get(url) ?? 0) + 1);
  }
  return Promise.all(
    endpoints.map(async (health) => ({
      health,
      attempts: await log.attempts(health.url, ATTEMPTS_SHOWN),
      dead: dead.filter((d) => d.url === health.url),
      pending: scheduled === null ? null : (pendingByUrl.get(health.url) ?? 0),
    })),
  );
}
