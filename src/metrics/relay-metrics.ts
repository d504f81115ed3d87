// Prometheus metrics (prom-client) for every role, on one registry per process. Roles record into it;
// `/metrics` serves it. Queue depths and tasks in flight are gauges read at scrape time
// (service/queue-depth-metrics.ts).
import { Counter, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/** Webhook answers take about a millisecond: finer buckets there, so p50 and p99 can be read from it. */
export const WEBHOOK_ACK_BUCKETS_S = [
  0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5,
];

export class RelayMetrics {
  readonly registry = new Registry();
  readonly submitLatency = new Histogram({
    name: 'kr_submit_latency_seconds',
    help: 'Time of one provider submit call',
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly providerLatency = new Histogram({
    name: 'kr_provider_latency_seconds',
    help: 'From accepted submit to all outputs stored',
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly webhookAckLatency = new Histogram({
    name: 'kr_webhook_ack_latency_seconds',
    help: 'Time to answer a provider webhook',
    buckets: WEBHOOK_ACK_BUCKETS_S,
    registers: [this.registry],
  });
  readonly webhookTokenChecks = new Counter({
    name: 'kr_webhook_token_checks_total',
    help: 'Webhook URL tokens verified, one per request, by result (ok, missing, malformed, expired, mismatch)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'kr_webhooks_total',
    help: 'Provider webhook calls by outcome (new, duplicate, late, error, rejected)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly recoveredByPolling = new Counter({
    name: 'kr_results_recovered_by_polling_total',
    help: 'Result items found by getResponse that no webhook had delivered',
    registers: [this.registry],
  });
  readonly submitErrors = new Counter({
    name: 'kr_submit_errors_total',
    help: 'Provider submit failures by category',
    labelNames: ['category'],
    registers: [this.registry],
  });
  readonly providerBackoffs = new Counter({
    name: 'kr_provider_backoffs_total',
    help: 'Submits the provider answered 429/503, by how we backed off: the whole queue, or that task alone',
    labelNames: ['scope'],
    registers: [this.registry],
  });
  readonly outputsStored = new Counter({
    name: 'kr_outputs_stored_total',
    help: 'Outputs stored in S3',
    registers: [this.registry],
  });
  readonly storageErrors = new Counter({
    name: 'kr_storage_errors_total',
    help: 'Failed attempts to fetch or store an output, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly slotRetries = new Counter({
    name: 'kr_slot_retries_total',
    help: 'Provider tasks submitted again for the missing slots of a task, by trigger (auto, operator)',
    labelNames: ['trigger'],
    registers: [this.registry],
  });
  readonly slotsFailed = new Counter({
    name: 'kr_slots_failed_total',
    help: 'Output slots that ended without a stored image, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly tasksFinished = new Counter({
    name: 'kr_tasks_finished_total',
    help: 'Tasks ended, by outcome (completed, partial, failed, cancelled)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly dataLost = new Counter({
    name: 'kr_redis_data_lost_total',
    help: 'Times this process found that Redis had lost its data (the epoch key vanished)',
    registers: [this.registry],
  });
  readonly cost = new Counter({
    name: 'kr_cost_usd_total',
    help: 'Provider cost reported for stored outputs, USD, by batch',
    labelNames: ['batch'],
    registers: [this.registry],
  });
}
