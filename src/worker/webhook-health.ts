// The worker's view of webhook health: whether new tasks are planned webhook-first or poll-first.
// The switch itself is decided atomically in Redis (tasks/delivery-stats.ts) as slots arrive; this
// only reads it, at most once per HEALTH_CACHE_MS per process, and logs the transitions it causes.
import type { Logger } from '../log.js';
import type { DeliveryStats } from '../tasks/delivery-stats.js';
import type { DeliveryMode } from './poll-policy.js';

/** How stale a process's view of the switch may be. */
export const HEALTH_CACHE_MS = 1_000;

export class WebhookHealth {
  private cached: { mode: DeliveryMode; at: number } | undefined;

  constructor(
    private readonly delivery: DeliveryStats,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async mode(): Promise<DeliveryMode> {
    const now = this.clock();
    if (this.cached && now - this.cached.at < HEALTH_CACHE_MS) return this.cached.mode;
    const { mode } = await this.delivery.readHealth();
    this.cached = { mode, at: now };
    return mode;
  }

  /** Polling recovered `count` results that no webhook delivered. */
  async notePolled(count: number): Promise<void> {
    if (await this.delivery.notePolled(count, this.clock())) {
      this.cached = { mode: 'poll-first', at: this.clock() };
      this.logger.warn('webhooks look lost: new tasks are polled first (relay.webhooks_degraded)');
    }
  }
}
