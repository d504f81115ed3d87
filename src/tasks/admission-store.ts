// The fair-share scheduler's Redis side (issue 14): admit / release / sweep through one Lua script
// (lua/admission.ts), tenant weights and caps, and the per-tenant figures status and metrics show.
// Invariant: HLEN(admitted) never exceeds the cap passed by the caller; a task holds at most one slot.
import type { Lane } from './job-options.js';
import { EVENTS_STREAM_MAX_LEN, type TaskKeys } from './keys.js';
import { codeOf } from './lua/script-codes.js';
import { type Scripted, scripted } from './lua/script-registry.js';
import type { RedisClient } from './task-store.js';

/** Tenant of a task enqueued without tenant and without batch. */
export const DEFAULT_TENANT = 'default';
/** Tenant names: what a CLI flag and a Redis hash field can carry without quoting. */
export const TENANT_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
/** Admissions are counted in buckets of this length; status shows the share of the last minute. */
export const SHARE_BUCKET_MS = 10_000;
export const SHARE_WINDOW_MS = 60_000;
const BUCKET_TTL_SEC = 2 * (SHARE_WINDOW_MS / 1000);
/** A tenant with nothing held or waiting and no admission for this long is forgotten by the sweep. */
export const TENANT_IDLE_FORGET_MS = 10 * 60_000;
/** Admitted tasks checked per sweep call (HSCAN COUNT and the script's batch). */
const SWEEP_PAGE = 200;

type Op = 'admit' | 'release' | 'sweep' | 'schedule';

export interface AdmitVerdict {
  admitted: boolean;
  /** Other tasks this call admitted: their parked jobs must be woken. */
  woken: string[];
}

export interface TenantConfig {
  weight: number;
  /** 0: no per-tenant cap. */
  maxInFlight: number;
}

export interface TenantFigures extends TenantConfig {
  tenant: string;
  /** Registered with the scheduler and not admitted yet (interactive + bulk). */
  queued: number;
  inFlight: number;
  /** Admitted tasks that ended (completed, failed, cancelled) and gave their slot back. */
  ended: number;
  /** Admissions in the last minute. */
  admittedLastMinute: number;
  /** This tenant's part of every admission in the last minute (0..1). */
  shareLastMinute: number;
  /** Its cap binds while it has work waiting. */
  throttled: boolean;
}

export class AdmissionStore {
  private readonly redis: Scripted;
  private readonly base: string;

  constructor(
    redis: RedisClient,
    readonly keys: TaskKeys,
    /** BullMQ's key of a job is this prefix + its id (Queue.toKey('')). */
    private readonly jobKeyPrefix: string,
  ) {
    this.redis = scripted(redis);
    this.base = `${keys.base}fs:`;
  }

  admit(taskUUID: string, tenant: string, lane: Lane, cap: number, now = Date.now()): Promise<AdmitVerdict> {
    return this.run('admit', taskUUID, tenant, lane, cap, now, []).then(([a, woken]) => ({
      admitted: codeOf('admission', a) === 'admitted',
      woken,
    }));
  }

  /** Give the task's slot back (or drop it from waiting); returns the tasks admitted in its place. */
  async release(taskUUID: string, cap: number, now = Date.now()): Promise<string[]> {
    return (await this.run('release', taskUUID, '', 'bulk', cap, now, []))[1];
  }

  /** Run the scheduler alone (after a tenant's cap was raised, say). */
  async schedule(cap: number, now = Date.now()): Promise<string[]> {
    return (await this.run('schedule', '', '', 'bulk', cap, now, []))[1];
  }

  /**
   * Release every admitted task whose task ended or whose job and record are gone (a worker crashed
   * between finish and release). Returns how many slots came back and the tasks admitted in their place.
   */
  async sweep(cap: number, now = Date.now()): Promise<{ released: number; woken: string[] }> {
    let cursor = '0';
    let released = 0;
    const woken: string[] = [];
    do {
      const [next, flat] = await this.redis.hscan(this.key('admitted'), cursor, 'COUNT', SWEEP_PAGE);
      cursor = next;
      const uuids = flat.filter((_, i) => i % 2 === 0);
      const [n, w] = await this.run('sweep', '', '', 'bulk', cap, now, uuids);
      released += n;
      woken.push(...w);
    } while (cursor !== '0');
    return { released, woken };
  }

  async isAdmitted(taskUUID: string): Promise<boolean> {
    return (await this.redis.hexists(this.key('admitted'), taskUUID)) === 1;
  }

  async inFlight(): Promise<number> {
    return this.redis.hlen(this.key('admitted'));
  }

  async setTenant(tenant: string, c: Partial<TenantConfig>): Promise<void> {
    const fields: (string | number)[] = [];
    if (c.weight !== undefined) fields.push(`weight:${tenant}`, c.weight);
    if (c.maxInFlight !== undefined) fields.push(`max:${tenant}`, c.maxInFlight);
    if (fields.length) await this.redis.hset(this.key('conf'), ...fields);
  }

  /** Every tenant configured or seen by the scheduler, with its figures; busiest first. */
  async tenants(now = Date.now()): Promise<TenantFigures[]> {
    const [conf, state] = await Promise.all([
      this.redis.hgetall(this.key('conf')),
      this.redis.hgetall(this.key('state')),
    ]);
    const bucketNow = Math.floor(now / SHARE_BUCKET_MS);
    const buckets = await Promise.all(
      Array.from({ length: SHARE_WINDOW_MS / SHARE_BUCKET_MS }, (_, i) =>
        this.redis.hgetall(this.bucketKey(bucketNow - i)),
      ),
    );
    const names = new Set<string>();
    const field = (h: Record<string, string>, kind: string, t: string) => Number(h[`${kind}:${t}`] ?? 0);
    for (const h of [conf, state]) {
      for (const f of Object.keys(h)) {
        const m = /^(?:weight|max|inflight|ended|throttled|last|ring:\w+):(.*)$/.exec(f);
        if (m?.[1]) names.add(m[1]);
      }
    }
    const recent = new Map<string, number>();
    for (const b of buckets)
      for (const [t, n] of Object.entries(b)) {
        names.add(t);
        recent.set(t, (recent.get(t) ?? 0) + Number(n));
      }
    const total = [...recent.values()].reduce((s, n) => s + n, 0);
    const list = [...names];
    const multi = this.redis.multi();
    for (const t of list) {
      multi.llen(`${this.base}wait:interactive:${t}`);
      multi.llen(`${this.base}wait:bulk:${t}`);
    }
    const lens = (await multi.exec()) ?? [];
    return list
      .map((t, i) => {
        const admitted = recent.get(t) ?? 0;
        return {
          tenant: t,
          weight: Number(conf[`weight:${t}`] ?? 1),
          maxInFlight: Number(conf[`max:${t}`] ?? 0),
          queued: Number(lens[2 * i]?.[1] ?? 0) + Number(lens[2 * i + 1]?.[1] ?? 0),
          inFlight: field(state, 'inflight', t),
          ended: field(state, 'ended', t),
          admittedLastMinute: admitted,
          shareLastMinute: total > 0 ? admitted / total : 0,
          throttled: state[`throttled:${t}`] !== undefined,
        };
      })
      .sort((a, b) => b.inFlight + b.queued - (a.inFlight + a.queued) || a.tenant.localeCompare(b.tenant));
  }

  private key(name: 'admitted' | 'waiting' | 'conf' | 'state'): string {
    return `${this.base}${name}`;
  }

  private bucketKey(bucket: number): string {
    return `${this.base}admits:${bucket}`;
  }

  private run(
    op: Op,
    taskUUID: string,
    tenant: string,
    lane: Lane,
    cap: number,
    now: number,
    extra: readonly string[],
  ): Promise<[number, string[]]> {
    return this.redis.krAdmission(
      this.key('admitted'),
      this.key('waiting'),
      this.key('conf'),
      this.key('state'),
      `${this.base}ring:interactive`,
      `${this.base}ring:bulk`,
      this.keys.events(),
      this.bucketKey(Math.floor(now / SHARE_BUCKET_MS)),
      op,
      taskUUID,
      tenant,
      lane,
      cap,
      now,
      this.keys.base,
      EVENTS_STREAM_MAX_LEN,
      BUCKET_TTL_SEC,
      this.jobKeyPrefix,
      TENANT_IDLE_FORGET_MS,
      ...extra,
    );
  }
}
