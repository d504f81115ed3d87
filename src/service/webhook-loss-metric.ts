// kr_webhook_loss_ratio: the share of recent result slots that polling recovered because no webhook
// delivered them (decayed window, shared by every process), read from Redis when Prometheus scrapes.
import { Gauge } from 'prom-client';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { DeliveryStats } from '../tasks/delivery-stats.js';

export function collectWebhookLoss(metrics: RelayMetrics, delivery: DeliveryStats): void {
  new Gauge({
    name: 'kr_webhook_loss_ratio',
    help: 'Recent result slots recovered by polling / slots delivered (0 = every one by webhook)',
    registers: [metrics.registry],
    async collect() {
      this.set((await delivery.readHealth()).lossRatio ?? 0);
    },
  });
  new Gauge({
    name: 'kr_poll_first',
    help: '1 while webhooks look lost and new tasks are polled first, else 0',
    registers: [metrics.registry],
    async collect() {
      this.set((await delivery.readHealth()).mode === 'poll-first' ? 1 : 0);
    },
  });
}
