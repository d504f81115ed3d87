// The producer: validates tasks against the contract before anything reaches Redis, then enqueues
// them one at a time or as batches (see enqueue-batch.ts).
import type { Config } from '../config/load-config.js';
import { JOB_NAME } from '../tasks/job-data.js';
import { type Lane, taskJobOptions } from '../tasks/job-options.js';
import type { TaskQueue } from '../tasks/queue.js';
import { closeRelayState, openRelayState, type RelayState } from '../tasks/relay-state.js';
import type { RedisClient } from '../tasks/task-store.js';
import { startTaskTrace, taskAttributes } from '../tracing/spans.js';
import { checkTenant } from './check-tenant.js';
import { type BatchOptions, type BatchSummary, enqueueBatch } from './enqueue-batch.js';
import { prepareTask } from './prepare-task.js';

export interface ProducerOptions {
  connection: RedisClient;
  config: Pick<Config, 'QUEUE_NAME' | 'QUEUE_PREFIX' | 'SUBMIT_ATTEMPTS'>;
  /** State already opened over `connection` (the Relay handle passes its own); closed by its owner. */
  state?: RelayState;
}

export interface EnqueueOptions {
  /** For tasks without a taskUUID: the same key always maps to the same task. */
  idempotencyKey?: string;
  batchId?: string;
  /** Priority lane (issue 6); single tasks default to 'interactive', ahead of every bulk job. */
  lane?: Lane;
  /** Fair-share tenant (issue 14); default: the batch id, else the default tenant. */
  tenant?: string;
}

export interface EnqueueResult {
  taskUUID: string;
  /** The task was already in the queue (or already ran): nothing was added. */
  duplicate: boolean;
}

export interface Producer {
  readonly queue: TaskQueue;
  enqueue(task: unknown, opts?: EnqueueOptions): Promise<EnqueueResult>;
  enqueueBatch(
    source: Iterable<unknown> | AsyncIterable<unknown>,
    opts?: BatchOptions,
  ): Promise<BatchSummary>;
  close(): Promise<void>;
}

export function createProducer(opts: ProducerOptions): Producer {
  const state = opts.state ?? openRelayState(opts.config, opts.connection);
  const { queue, tasks, batches } = state;
  const attempts = opts.config.SUBMIT_ATTEMPTS;
  return {
    queue,
    async enqueue(input, o = {}) {
      const task = prepareTask(input, o.idempotencyKey);
      const existed =
        (await queue.getJob(task.taskUUID)) !== undefined || (await tasks.get(task.taskUUID)) !== null;
      if (existed) return { taskUUID: task.taskUUID, duplicate: true };
      const trace = startTaskTrace(taskAttributes(task.taskUUID, o.batchId));
      await queue.add(
        JOB_NAME,
        {
          task,
          enqueuedAt: Date.now(),
          ...(trace ? { trace } : {}),
          ...(o.batchId ? { batchId: o.batchId } : {}),
          ...(o.tenant ? { tenant: checkTenant(o.tenant) } : {}),
        },
        taskJobOptions(task.taskUUID, attempts, o.lane ?? 'interactive'),
      );
      return { taskUUID: task.taskUUID, duplicate: false };
    },
    enqueueBatch(source, o = {}) {
      return enqueueBatch({ redis: opts.connection, queue, batches, attempts }, source, o);
    },
    async close() {
      if (!opts.state) await closeRelayState(state);
    },
  };
}
