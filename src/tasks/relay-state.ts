// The Redis-side state every role works on, opened in one place: the key layout, the BullMQ queue and
// the task and batch records over one connection. Roles take the parts they need as Pick<RelayState, …>.
import type { Config } from '../config/load-config.js';
import { AdmissionStore } from './admission-store.js';
import { BatchStore } from './batch-store.js';
import type { TaskKeys } from './keys.js';
import { openQueue, type QueueOpenOptions, type TaskQueue } from './queue.js';
import { type RedisClient, TaskStore } from './task-store.js';

export interface RelayState {
  /** The shared connection; blocking reads always use a duplicate of it. */
  readonly redis: RedisClient;
  readonly keys: TaskKeys;
  readonly queue: TaskQueue;
  readonly tasks: TaskStore;
  readonly batches: BatchStore;
  /** The fair-share scheduler (issue 14); used only when MAX_IN_FLIGHT is set. */
  readonly admission: AdmissionStore;
}

export type StateConfig = Pick<Config, 'QUEUE_NAME' | 'QUEUE_PREFIX'>;

/** The task and batch records with the queue: what status reads, operator actions and budgets work on. */
export type RecordsState = Pick<RelayState, 'queue' | 'tasks' | 'batches'>;

/** Open the state over `redis`. Closing it (closeRelayState) closes the queue, not the connection. */
export function openRelayState(
  config: StateConfig,
  redis: RedisClient,
  opts: QueueOpenOptions = {},
): RelayState {
  const queue = openQueue(config, redis, opts);
  const tasks = new TaskStore(redis, config.QUEUE_PREFIX, config.QUEUE_NAME);
  const admission = new AdmissionStore(redis, tasks.keys, queue.toKey(''));
  return { redis, keys: tasks.keys, queue, tasks, batches: new BatchStore(redis, tasks.keys), admission };
}

export async function closeRelayState(state: RelayState): Promise<void> {
  await state.queue.close();
}
