// Refuses to run a role that writes state on a Redis that would forget it: every guarantee rests on
// Redis keeping its data. ALLOW_EPHEMERAL_REDIS=true skips this check (the data-loss alarm stays on).
import type { Config } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { type Persistence, persists, readPersistence } from '../tasks/redis-persistence.js';
import type { RedisClient } from '../tasks/task-store.js';

export async function requireDurableRedis(
  redis: RedisClient,
  config: Pick<Config, 'ALLOW_EPHEMERAL_REDIS'>,
): Promise<Persistence> {
  const p = await readPersistence(redis);
  if (persists(p) || config.ALLOW_EPHEMERAL_REDIS) return p;
  throw new ConfigError(
    `${p.kind === 'none' ? 'Redis has no persistence' : `Redis persistence cannot be verified, ${p.detail}`}: ` +
      'enable AOF (appendonly yes) or RDB (save), or set ALLOW_EPHEMERAL_REDIS=true to accept losing the queue on a Redis restart',
  );
}
