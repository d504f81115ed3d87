// What the short-lived CLI commands need: Redis, the queue and the task/batch stores, from Config.
import type { Config } from '../config/load-config.js';
import type { StatusContext } from '../status/read-status.js';
import { BatchStore } from '../tasks/batch-store.js';
import { openQueue } from '../tasks/queue.js';
import { connectRedis } from '../tasks/redis-connection.js';
import { type RedisClient, TaskStore } from '../tasks/task-store.js';

export interface CliContext extends StatusContext {
  redis: RedisClient;
  close(): Promise<void>;
}

/** Async because a plain REDIS_URL may name one node of a Redis Cluster: connectRedis finds out. */
export async function openContext(config: Config): Promise<CliContext> {
  const redis = await connectRedis(config, { maxRetriesPerRequest: 3 });
  const queue = openQueue(config, redis);
  // ioredis reconnects on its own; say so once per outage instead of once per reconnect attempt.
  let reported = false;
  const report = (err: Error) => {
    if (!reported) console.error(`redis connection error: ${err.message} (reconnecting)`);
    reported = true;
  };
  redis.on('error', report);
  queue.on('error', report);
  redis.on('ready', () => {
    if (reported) console.error('redis connection restored');
    reported = false;
  });
  const tasks = new TaskStore(redis, config.QUEUE_PREFIX, config.QUEUE_NAME);
  return {
    redis,
    queue,
    tasks,
    batches: new BatchStore(redis, tasks.keys),
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
