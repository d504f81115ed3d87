// What the short-lived CLI commands need: Redis, the queue and the task/batch stores, from Config.
import type { Config } from '../config/load-config.js';
import type { StatusContext } from '../status/read-status.js';
import { BatchStore } from '../tasks/batch-store.js';
import { openQueue } from '../tasks/queue.js';
import { createRedis } from '../tasks/redis-connection.js';
import { TaskStore } from '../tasks/task-store.js';

export interface CliContext extends StatusContext {
  close(): Promise<void>;
}

export function openContext(config: Config): CliContext {
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const queue = openQueue(config, redis);
  const tasks = new TaskStore(redis, config.QUEUE_PREFIX, config.QUEUE_NAME);
  return {
    queue,
    tasks,
    batches: new BatchStore(redis, tasks.keys),
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
