// Queue depths per state and tasks in flight, read from Redis when Prometheus scrapes.
import { Gauge } from 'prom-client';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { TaskQueue } from '../tasks/queue.js';
import type { TaskStore } from '../tasks/task-store.js';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

export function collectQueueDepths(metrics: RelayMetrics, queue: TaskQueue, tasks: TaskStore): void {
  new Gauge({
    name: 'kr_queue_jobs',
    help: 'Jobs in the task queue by state (delayed = parked while the provider works)',
    labelNames: ['state'],
    registers: [metrics.registry],
    async collect() {
      const counts = await queue.getJobCounts(...STATES);
      for (const s of STATES) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  new Gauge({
    name: 'kr_tasks_inflight',
    help: 'Tasks accepted by the provider and not yet ended',
    registers: [metrics.registry],
    async collect() {
      this.set(await tasks.inflightCount());
    },
  });
}
