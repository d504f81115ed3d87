// Whether the Redis behind a connection keeps its data across a restart (AOF or RDB snapshots).
// Rule: CONFIG GET appendonly/save when the server answers it; when CONFIG is refused (managed Redis,
// renamed command, ACL) INFO persistence's `aof_enabled:1` still proves AOF; otherwise it is "unknown".
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './task-store.js';

export type PersistenceKind = 'aof' | 'rdb' | 'aof+rdb' | 'none' | 'unknown';

export interface Persistence {
  kind: PersistenceKind;
  /** One human phrase: what was found and how (e.g. `AOF (appendonly yes)`). */
  detail: string;
}

/** Persistent enough for the guarantees: AOF, RDB snapshots, or both. */
export function persists(p: Persistence): boolean {
  return p.kind === 'aof' || p.kind === 'rdb' || p.kind === 'aof+rdb';
}

/** On a Cluster every master is asked; the weakest answer wins. */
export async function readPersistence(redis: RedisClient): Promise<Persistence> {
  if (!(redis instanceof Cluster)) return readNode(redis);
  await redis.ping(); // the node list fills once the cluster client is connected
  const masters = redis.nodes('master');
  const all = await Promise.all(masters.map(readNode));
  return (
    all.find((p) => p.kind === 'none') ??
    all.find((p) => p.kind === 'unknown') ?? { kind: all[0]?.kind ?? 'unknown', detail: all[0]?.detail ?? '' }
  );
}

async function readNode(node: Redis): Promise<Persistence> {
  let aof: string | undefined;
  let save: string | undefined;
  try {
    aof = configValue(await node.config('GET', 'appendonly'));
    save = configValue(await node.config('GET', 'save'));
  } catch (e) {
    if (!isReplyError(e)) throw e;
    return readInfo(node);
  }
  if (aof === undefined && save === undefined) return readInfo(node);
  const hasAof = aof === 'yes';
  const hasRdb = save !== undefined && save.trim() !== '';
  if (hasAof && hasRdb) return { kind: 'aof+rdb', detail: `AOF and RDB snapshots (save "${save}")` };
  if (hasAof) return { kind: 'aof', detail: 'AOF (appendonly yes)' };
  if (hasRdb) return { kind: 'rdb', detail: `RDB snapshots (save "${save}")` };
  return { kind: 'none', detail: 'no persistence (appendonly no, save "")' };
}

/** CONFIG is refused: INFO can still show AOF; RDB settings are not visible there. */
async function readInfo(node: Redis): Promise<Persistence> {
  let info: string;
  try {
    info = await node.info('persistence');
  } catch (e) {
    if (!isReplyError(e)) throw e;
    return { kind: 'unknown', detail: 'CONFIG and INFO are refused' };
  }
  if (/^aof_enabled:1\s*$/m.test(info))
    return { kind: 'aof', detail: 'AOF (INFO aof_enabled:1; CONFIG refused)' };
  return { kind: 'unknown', detail: 'CONFIG is refused and INFO shows no AOF' };
}

/** CONFIG GET answers [name, value] (an object with RESP3). */
function configValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return typeof reply[1] === 'string' ? reply[1] : undefined;
  return undefined;
}

function isReplyError(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError';
}
