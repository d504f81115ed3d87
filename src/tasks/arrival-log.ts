// How each new result reached the relay — by the provider's webhook or by a getResponse poll — kept per
// task (slot → via|time, for the task page's timeline) and counted per minute (for the charts'
// webhook-vs-poll ratio). Bounded: the per-task hash lives as long as the task record
// (RECORD_RETENTION_SEC); a minute's counters expire after ROLLUP_TTL_SEC.

import type { Cluster, Redis } from 'ioredis';
import { RECORD_RETENTION_SEC, type TaskKeys } from './keys.js';

export type ArrivalVia = 'webhook' | 'poll';
/** Per-minute counters are kept this long (24 h: at most 1440 small hashes). */
export const ROLLUP_TTL_SEC = 24 * 3600;
const MINUTE_MS = 60_000;

type RedisClient = Redis | Cluster;

export interface Arrival {
  slot: number;
  via: ArrivalVia;
  at: number;
}

export function arrivalsKey(keys: TaskKeys, taskUUID: string): string {
  return `${keys.base}arrivals:${taskUUID}`;
}

export function minuteRollupKey(keys: TaskKeys, minuteStart: number): string {
  return `${keys.base}rollup:${minuteStart}`;
}

/** The start of `now`'s minute: the rollup counter's key. */
export function minuteStart(now: number): number {
  return now - (now % MINUTE_MS);
}

/** Log one arrival. Webhooks and polls log theirs inside RECORD_ITEM instead (same keys, same values). */
export async function noteArrival(
  redis: RedisClient,
  keys: TaskKeys,
  taskUUID: string,
  slot: number,
  via: ArrivalVia,
  now = Date.now(),
): Promise<void> {
  const minute = minuteStart(now);
  const multi = redis.multi();
  multi.hset(arrivalsKey(keys, taskUUID), String(slot), `${via}|${now}`);
  multi.expire(arrivalsKey(keys, taskUUID), RECORD_RETENTION_SEC);
  multi.hincrby(minuteRollupKey(keys, minute), via, 1);
  multi.expire(minuteRollupKey(keys, minute), ROLLUP_TTL_SEC);
  await multi.exec();
}

export async function readArrivals(redis: RedisClient, keys: TaskKeys, taskUUID: string): Promise<Arrival[]> {
  const h = await redis.hgetall(arrivalsKey(keys, taskUUID));
  return Object.entries(h)
    .map(([slot, v]) => {
      const [via, at] = v.split('|');
      return { slot: Number(slot), via: via === 'poll' ? 'poll' : 'webhook', at: Number(at) } as Arrival;
    })
    .sort((a, b) => a.slot - b.slot);
}

/** Webhook and poll arrivals per minute over [from, to] (at most the last ROLLUP_TTL_SEC of it). */
export async function readArrivalRollup(
  redis: RedisClient,
  keys: TaskKeys,
  from: number,
  to: number,
): Promise<{ minute: number; webhook: number; poll: number }[]> {
  const minutes: number[] = [];
  const first = Math.max(from, to - ROLLUP_TTL_SEC * 1000);
  for (let m = first - (first % MINUTE_MS); m <= to; m += MINUTE_MS) minutes.push(m);
  const pipe = redis.pipeline();
  for (const m of minutes) pipe.hmget(minuteRollupKey(keys, m), 'webhook', 'poll');
  const res = (await pipe.exec()) ?? [];
  return minutes.map((minute, i) => {
    const [webhook, poll] = (res[i]?.[1] as (string | null)[] | undefined) ?? [];
    return { minute, webhook: Number(webhook ?? 0), poll: Number(poll ?? 0) };
  });
}
