// The task queue as every role opens it: one name, one hash-tagged prefix.
import { Queue, QueueEvents } from 'bullmq';
import type { Config } from '../config/load-config.js';
import type { TaskJobData, TaskJobResult } from './job-data.js';
import { bullPrefix } from './keys.js';
import type { RedisClient } from './task-store.js';

export type TaskQueue = Queue<TaskJobData, TaskJobResult>;

export interface QueueOpenOptions {
  /**
   * BullMQ writes its version into the queue's meta hash when a Queue opens; false skips that write
   * (BullMQ's public skipMetasUpdate), for short-lived readers that must leave Redis untouched.
   */
  writeMeta?: boolean;
}

export function openQueue(
  cfg: Pick<Config, 'QUEUE_NAME' | 'QUEUE_PREFIX'>,
  connection: RedisClient,
  opts: QueueOpenOptions = {},
): TaskQueue {
  return new Queue<TaskJobData, TaskJobResult>(cfg.QUEUE_NAME, {
    connection,
    prefix: bullPrefix(cfg.QUEUE_PREFIX),
    ...(opts.writeMeta === false ? { skipMetasUpdate: true } : {}),
  });
}

export function openQueueEvents(cfg: Pick<Config, 'QUEUE_NAME' | 'QUEUE_PREFIX'>, connection: RedisClient) {
  return new QueueEvents(cfg.QUEUE_NAME, { connection, prefix: bullPrefix(cfg.QUEUE_PREFIX) });
}
