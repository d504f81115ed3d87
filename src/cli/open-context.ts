// What the short-lived CLI commands need: Redis, the queue and the task/batch stores, from Config.
import type { Config } from '../config/load-config.js';
import { connectRedis } from '../tasks/redis-connection.js';
import { closeRelayState, openRelayState, type RelayState } from '../tasks/relay-state.js';

export interface CliContext extends RelayState {
  close(): Promise<void>;
}

/** Async because a plain REDIS_URL may name one node of a Redis Cluster: connectRedis finds out. */
export async function openContext(config: Config): Promise<CliContext> {
  const redis = await connectRedis(config, { maxRetriesPerRequest: 3 });
  // The commands that write do so through the stores; opening the context itself writes nothing
  // (so `cancel` of an unknown batch leaves Redis as it found it).
  const state = openRelayState(config, redis, { writeMeta: false });
  // ioredis reconnects on its own; say so once per outage instead of once per reconnect attempt.
  let reported = false;
  const report = (err: Error) => {
    if (!reported) console.error(`redis connection error: ${err.message} (reconnecting)`);
    reported = true;
  };
  redis.on('error', report);
  state.queue.on('error', report);
  redis.on('ready', () => {
    if (reported) console.error('redis connection restored');
    reported = false;
  });
  return {
    ...state,
    async close() {
      await closeRelayState(state);
      redis.disconnect();
    },
  };
}
