// A comparable picture of every key under a prefix (type and full value), to prove that a refused
// request changed nothing. Keys are listed with SCAN, so it is for test-sized prefixes only.
import type { Redis } from 'ioredis';

/** Redis glob characters in a literal prefix. */
const GLOB_SPECIAL = /[*?[\]\\]/g;
const SCAN_COUNT = 500;
const STREAM_MAX = 10_000;

export type Snapshot = Record<string, unknown>;

export async function snapshotKeys(
  redis: Redis,
  prefix: string,
  extraKeys: readonly string[] = [],
): Promise<Snapshot> {
  const keys = new Set(extraKeys);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      `${prefix.replace(GLOB_SPECIAL, '\\$&')}*`,
      'COUNT',
      SCAN_COUNT,
    );
    for (const k of found) keys.add(k);
    cursor = next;
  } while (cursor !== '0');
  const out: Snapshot = {};
  for (const key of [...keys].sort()) out[key] = await readValue(redis, key);
  return out;
}

async function readValue(redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key);
  switch (type) {
    case 'none':
      return null;
    case 'string':
      return redis.get(key);
    case 'hash':
      return sorted(await redis.hgetall(key));
    case 'zset':
      return redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES');
    case 'set':
      return (await redis.smembers(key)).sort();
    case 'list':
      return redis.lrange(key, 0, -1);
    case 'stream':
      return redis.xrange(key, '-', '+', 'COUNT', STREAM_MAX);
    default:
      return `<${type}>`;
  }
}

function sorted(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)));
}

/** Keys whose value differs between two snapshots (added, removed or changed). */
export function changedKeys(before: Snapshot, after: Snapshot): string[] {
  const all = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...all].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}
