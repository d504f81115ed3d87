// The one handle library users hold: enqueue, follow events, wait, read status, retry, cancel, close.
// It opens its Redis connection lazily (a plain URL may name a cluster node: connectRedis asks), and
// close() releases everything it opened — connection, queue and live event iterators — so a script
// that awaits close() exits by itself.
import { type Config, loadConfig, loadConfigWith } from '../config/load-config.js';
import { type CancelOutcome, cancelBatch } from '../control/cancel-batch.js';
import { type RetryOutcome, retryFailedTasks } from '../control/retry-failed.js';
import { setTenant } from '../control/set-tenant.js';
import { RelayError } from '../errors.js';
import { type BudgetChange, raiseBudget } from '../events/budget.js';
import type { RelayEvent } from '../events/event-types.js';
import { type SubscribeOptions, subscribeEvents } from '../events/subscribe-events.js';
import { type WaitOptions, waitForBatch, waitForTask } from '../events/wait-for-end.js';
import {
  createProducer,
  type EnqueueOptions,
  type EnqueueResult,
  type Producer,
} from '../producer/create-producer.js';
import type { BatchOptions, BatchSummary } from '../producer/enqueue-batch.js';
import {
  type BatchStatus,
  readBatchStatus,
  readBatchTasks,
  readTaskStatus,
  type TaskStatus,
} from '../status/read-status.js';
import type { TenantConfig, TenantFigures } from '../tasks/admission-store.js';
import { connectRedis } from '../tasks/redis-connection.js';
import { closeRelayState, openRelayState, type RelayState } from '../tasks/relay-state.js';
import type { RedisClient } from '../tasks/task-store.js';

export interface RelayOptions {
  /** The whole configuration; default: loadConfig() from the environment. */
  config?: Config;
  /** Shorthands that override `config` (or the environment). */
  redisUrl?: string;
  queuePrefix?: string;
  queueName?: string;
  /** Bring your own connection: the relay uses it and leaves it open on close(). */
  connection?: RedisClient;
}

export type RelayEventsOptions = Omit<SubscribeOptions, 'signal'> & { signal?: AbortSignal };

export interface Relay {
  readonly config: Config;
  /** One task, interactive lane by default. Validated before anything reaches Redis. */
  enqueue(task: unknown, opts?: EnqueueOptions): Promise<EnqueueResult>;
  /** Many tasks (array, iterable or async iterable); 100k stream through a spool, never all in memory. */
  enqueueBatch(
    source: Iterable<unknown> | AsyncIterable<unknown>,
    opts?: BatchOptions,
  ): Promise<BatchSummary>;
  /** Completion events, live and resumable: pass the last seen `id` back as `from`. Ends on close(). */
  events(opts?: RelayEventsOptions): AsyncIterableIterator<RelayEvent>;
  waitForBatch(batchId: string, opts: WaitOptions): Promise<BatchStatus>;
  waitForTask(taskUUID: string, opts: WaitOptions): Promise<TaskStatus>;
  /** A batch's counts and state; null for an unknown batch. */
  status(batchId: string): Promise<BatchStatus | null>;
  /** One task's state and outputs; null for an unknown task. */
  task(taskUUID: string): Promise<TaskStatus | null>;
  /** A page of a batch's tasks, in batch order. */
  tasks(batchId: string, offset?: number, limit?: number): Promise<TaskStatus[]>;
  retryFailed(batchId: string): Promise<RetryOutcome>;
  cancel(batchId: string): Promise<CancelOutcome>;
  setBudget(batchId: string, usd: number): Promise<BudgetChange>;
  /** Fair share: a tenant's weight and/or max in flight (stored in Redis, applies at once). */
  setTenant(tenant: string, change: Partial<TenantConfig>): Promise<TenantFigures | undefined>;
  /** Fair share: every tenant's queued / in flight / ended / share of the last minute. */
  tenants(): Promise<TenantFigures[]>;
  /** Closes what the relay opened; pending event iterators end. Safe to call twice. */
  close(): Promise<void>;
}

export class RelayClosedError extends RelayError {
  constructor() {
    super('RELAY_CLOSED', 'this relay was closed');
  }
}

interface Opened {
  state: RelayState;
  producer: Producer;
}

export function createRelay(opts: RelayOptions = {}): Relay {
  const config = relayConfig(opts);
  const ownsConnection = opts.connection === undefined;
  const iterators = new Set<AbortController>();
  let opened: Promise<Opened> | undefined;
  let closed = false;

  const open = (): Promise<Opened> => {
    if (closed) return Promise.reject(new RelayClosedError());
    opened ??= (async () => {
      const redis = opts.connection ?? (await connectRedis(config));
      const state = openRelayState(config, redis);
      return { state, producer: createProducer({ connection: redis, config, state }) };
    })();
    return opened;
  };
  const state = async () => (await open()).state;

  async function* events(o: RelayEventsOptions = {}): AsyncGenerator<RelayEvent, void, undefined> {
    const stop = new AbortController();
    iterators.add(stop);
    const signal = o.signal ? AbortSignal.any([stop.signal, o.signal]) : stop.signal;
    try {
      const s = await state();
      yield* subscribeEvents(s.redis, s.keys, { ...o, signal });
    } finally {
      iterators.delete(stop);
    }
  }

  return {
    config,
    async enqueue(task, o) {
      return (await open()).producer.enqueue(task, o);
    },
    async enqueueBatch(source, o) {
      return (await open()).producer.enqueueBatch(source, o);
    },
    events,
    async waitForBatch(batchId, o) {
      const s = await state();
      return untilClosed(o, iterators, (w) => waitForBatch(s, batchId, w));
    },
    async waitForTask(taskUUID, o) {
      const s = await state();
      return untilClosed(o, iterators, (w) => waitForTask(s, taskUUID, w));
    },
    async status(batchId) {
      return readBatchStatus(await state(), batchId);
    },
    async task(taskUUID) {
      return readTaskStatus(await state(), taskUUID);
    },
    async tasks(batchId, offset = 0, limit = 100) {
      return readBatchTasks(await state(), batchId, offset, limit);
    },
    async retryFailed(batchId) {
      return retryFailedTasks(await state(), batchId);
    },
    async cancel(batchId) {
      return cancelBatch(await state(), batchId);
    },
    async setBudget(batchId, usd) {
      return raiseBudget(await state(), batchId, usd);
    },
    async setTenant(tenant, change) {
      return setTenant(await state(), config, tenant, change);
    },
    async tenants() {
      return (await state()).admission.tenants();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const it of iterators) it.abort();
      if (!opened) return;
      const o = await opened.catch(() => undefined);
      if (!o) return;
      await closeRelayState(o.state);
      if (ownsConnection) await o.state.redis.quit().catch(() => o.state.redis.disconnect());
    },
  };
}

function relayConfig(opts: RelayOptions): Config {
  // The shorthands go through the same schema as the environment, so a bad prefix fails the same way.
  const env = {
    ...(opts.redisUrl !== undefined ? { REDIS_URL: opts.redisUrl } : {}),
    ...(opts.queuePrefix !== undefined ? { QUEUE_PREFIX: opts.queuePrefix } : {}),
    ...(opts.queueName !== undefined ? { QUEUE_NAME: opts.queueName } : {}),
  };
  if (!opts.config) return loadConfigWith(env);
  if (Object.keys(env).length === 0) return opts.config;
  const checked = loadConfig(env);
  const picked = Object.fromEntries(Object.keys(env).map((k) => [k, checked[k as keyof Config]]));
  return Object.freeze({ ...opts.config, ...picked });
}

/** Run a wait that also ends, rejecting with RelayClosedError, when the relay closes. */
async function untilClosed<T>(
  o: WaitOptions,
  iterators: Set<AbortController>,
  run: (o: WaitOptions) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  iterators.add(stop);
  try {
    return await run({ ...o, signal: o.signal ? AbortSignal.any([stop.signal, o.signal]) : stop.signal });
  } catch (e) {
    throw stop.signal.aborted ? new RelayClosedError() : e;
  } finally {
    iterators.delete(stop);
  }
}
