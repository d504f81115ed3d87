// The outgoing delivery log (the Svix model): per endpoint, every attempt with status, latency and
// response code, and the endpoint's health. After `disableAfter` failures in a row an endpoint is
// disabled (an endpoint.disabled event is appended) until the operator re-enables it.
// Bounded: ATTEMPTS_KEPT attempts per endpoint (stream MAXLEN ~), and every key expires LOG_TTL_SEC after
// its endpoint's last attempt; the dead-letter list is capped by DeliveryStore (DEAD_DELIVERIES_KEPT).
import { createHash } from 'node:crypto';
import { EVENTS_STREAM_MAX_LEN } from '../../tasks/keys.js';
import { codeOf } from '../../tasks/lua/script-codes.js';
import { type Scripted, scripted } from '../../tasks/lua/script-registry.js';
import type { RedisClient } from '../../tasks/task-store.js';
import type { EventKeys } from '../event-keys.js';

/** Attempts kept per endpoint (approximate: Redis trims whole stream nodes). */
export const ATTEMPTS_KEPT = 1_000;
/** An endpoint's log and health expire this long after its last attempt. */
export const LOG_TTL_SEC = 7 * 24 * 3600;
/** Failures in a row that disable an endpoint (config: EVENTS_ENDPOINT_DISABLE_AFTER). */
export const DEFAULT_DISABLE_AFTER = 50;

export interface AttemptRecord {
  webhookId: string;
  eventId: string;
  type: string;
  /** 1 for the first attempt of a delivery. */
  attempt: number;
  ok: boolean;
  /** The receiver's HTTP status; null when there was no answer (refused, timeout). */
  status: number | null;
  latencyMs: number;
  error: string;
  at: number;
}

export interface EndpointHealth {
  url: string;
  delivered: number;
  failed: number;
  consecutiveFailures: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string;
  /** When it was disabled; null while enabled. */
  disabledAt: number | null;
}

export type AttemptVerdict = 'delivered' | 'failed' | 'disabled';

export class DeliveryLog {
  private readonly redis: Scripted;
  constructor(
    redis: RedisClient,
    private readonly keys: EventKeys,
    private readonly eventsKey: string,
    private readonly disableAfter = DEFAULT_DISABLE_AFTER,
  ) {
    this.redis = scripted(redis);
  }

  async record(url: string, a: Omit<AttemptRecord, 'at'>, now = Date.now()): Promise<AttemptVerdict> {
    const r = await this.redis.krRecordAttempt(
      this.attemptsKey(url),
      this.endpointKey(url),
      this.endpointsKey(),
      this.eventsKey,
      url,
      a.ok ? 1 : 0,
      a.status ?? '',
      Math.round(a.latencyMs),
      a.webhookId,
      a.eventId,
      a.type,
      a.attempt,
      a.error,
      this.disableAfter,
      now,
      ATTEMPTS_KEPT,
      LOG_TTL_SEC,
      EVENTS_STREAM_MAX_LEN,
    );
    return codeOf('recordAttempt', r);
  }

  async isDisabled(url: string): Promise<boolean> {
    return (await this.redis.hexists(this.endpointKey(url), 'disabledAt')) === 1;
  }

  /** Re-enable: the endpoint is called again and its failure streak starts over. */
  async enable(url: string): Promise<boolean> {
    const multi = this.redis.multi();
    multi.hdel(this.endpointKey(url), 'disabledAt');
    multi.hset(this.endpointKey(url), 'consecutiveFailures', 0);
    const res = await multi.exec();
    return Number(res?.[0]?.[1] ?? 0) === 1;
  }

  async endpoints(): Promise<EndpointHealth[]> {
    const urls = (await this.redis.smembers(this.endpointsKey())).sort();
    const out: EndpointHealth[] = [];
    for (const url of urls) {
      const h = await this.health(url);
      if (h) out.push(h);
      else await this.redis.srem(this.endpointsKey(), url); // expired
    }
    return out;
  }

  async health(url: string): Promise<EndpointHealth | null> {
    const h = await this.redis.hgetall(this.endpointKey(url));
    if (!h.url) return null;
    const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
    return {
      url,
      delivered: Number(h.delivered ?? 0),
      failed: Number(h.failed ?? 0),
      consecutiveFailures: Number(h.consecutiveFailures ?? 0),
      lastAttemptAt: num(h.lastAttemptAt),
      lastStatus: num(h.lastStatus),
      lastError: h.lastError ?? '',
      disabledAt: num(h.disabledAt),
    };
  }

  /** The newest attempts first. */
  async attempts(url: string, limit = 100): Promise<AttemptRecord[]> {
    const rows = (await this.redis.xrevrange(this.attemptsKey(url), '+', '-', 'COUNT', limit)) as [
      string,
      string[],
    ][];
    return rows.map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        webhookId: f.webhookId ?? '',
        eventId: f.eventId ?? '',
        type: f.type ?? '',
        attempt: Number(f.attempt ?? 0),
        ok: f.ok === '1',
        status: f.status ? Number(f.status) : null,
        latencyMs: Number(f.latencyMs ?? 0),
        error: f.error ?? '',
        at: Number(f.at ?? 0),
      };
    });
  }

  private endpointsKey(): string {
    return `${this.keys.base}event-endpoints`;
  }
  private endpointKey(url: string): string {
    return `${this.keys.base}event-endpoint:${urlHash(url)}`;
  }
  private attemptsKey(url: string): string {
    return `${this.keys.base}event-attempts:${urlHash(url)}`;
  }
}

function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}
