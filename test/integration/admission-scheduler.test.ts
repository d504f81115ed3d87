// The fair-share choice rule (tasks/lua/admission.ts) on a real Redis: deficit round robin by weight,
// per-tenant caps, interactive ahead of bulk, fairness per tenant (not per batch), the global cap.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createRelay } from '../../src/relay/create-relay.js';
import { AdmissionStore, TENANT_IDLE_FORGET_MS } from '../../src/tasks/admission-store.js';
import { TaskKeys } from '../../src/tasks/keys.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterAll(() => redis.quit());

function fresh(): { store: AdmissionStore; tasks: TaskStore } {
  const prefix = `kr-${uniqueId()}`;
  const keys = new TaskKeys(prefix, 'q');
  return {
    store: new AdmissionStore(redis, keys, `{${prefix}}:q:`),
    tasks: new TaskStore(redis, prefix, 'q'),
  };
}

/** Register n tasks per tenant (in that order, interleaved or not) while the cap is full. */
async function register(
  store: AdmissionStore,
  tenant: string,
  n: number,
  lane: 'interactive' | 'bulk' = 'bulk',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${tenant}-${lane}-${i}-${uniqueId()}`;
    ids.push(id);
    await store.admit(id, tenant, lane, 1);
  }
  return ids;
}

/** Free the one slot `rounds` times; returns the tenant admitted each time (ids start with it). */
async function drain(store: AdmissionStore, holder: string, rounds: number, cap = 1): Promise<string[]> {
  const order: string[] = [];
  let current = [holder];
  for (let r = 0; r < rounds && current.length; r++) {
    const next: string[] = [];
    for (const id of current) next.push(...(await store.release(id, cap)));
    order.push(...next.map((id) => id.split('-')[0]!));
    current = next;
  }
  return order;
}

describe('fair-share scheduler', () => {
  it('admits up to the cap at once and parks the rest', async () => {
    const { store } = fresh();
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await store.admit(`a${i}`, 'a', 'bulk', 3));
    expect(verdicts.map((v) => v.admitted)).toEqual([true, true, true, false, false]);
    expect(await store.inFlight()).toBe(3);
    // Asking again is idempotent: still one slot per task, still waiting.
    expect((await store.admit('a0', 'a', 'bulk', 3)).admitted).toBe(true);
    expect((await store.admit('a4', 'a', 'bulk', 3)).admitted).toBe(false);
    expect(await store.inFlight()).toBe(3);
    expect(await store.release('a0', 3)).toEqual(['a3']);
    expect(await store.release('a0', 3)).toEqual([]);
    expect(await store.inFlight()).toBe(3);
  });

  it('alternates between equal tenants even when one registered everything first', async () => {
    const { store } = fresh();
    await store.admit('hold', 'z', 'bulk', 1);
    await register(store, 'big', 20);
    await register(store, 'small', 5);
    const order = await drain(store, 'hold', 10);
    expect(order).toEqual(['big', 'small', 'big', 'small', 'big', 'small', 'big', 'small', 'big', 'small']);
  });

  it('weights 3:1 give three admissions to one', async () => {
    const { store } = fresh();
    await store.setTenant('heavy', { weight: 3 });
    await store.admit('hold', 'z', 'bulk', 1);
    await register(store, 'heavy', 30);
    await register(store, 'light', 30);
    const order = await drain(store, 'hold', 40);
    const heavy = order.filter((t) => t === 'heavy').length;
    expect(heavy).toBe(30);
    expect(order.length - heavy).toBe(10);
    expect(order.slice(0, 8)).toEqual([
      'heavy',
      'heavy',
      'heavy',
      'light',
      'heavy',
      'heavy',
      'heavy',
      'light',
    ]);
  });

  it('a tenant with many batches gains nothing: fairness is per tenant', async () => {
    const { store } = fresh();
    await store.admit('hold', 'z', 'bulk', 1);
    // Tenant "many" registers 10 batches of 3 tasks; the scheduler only sees the tenant.
    for (let b = 0; b < 10; b++) await register(store, 'many', 3);
    await register(store, 'one', 30);
    const order = await drain(store, 'hold', 20);
    expect(order.filter((t) => t === 'many')).toHaveLength(10);
    expect(order.filter((t) => t === 'one')).toHaveLength(10);
  });

  it('a capped tenant is passed over, and throttled once per period with an event', async () => {
    const { store, tasks } = fresh();
    await store.setTenant('capped', { maxInFlight: 2 });
    const admitted = [];
    for (let i = 0; i < 4; i++)
      admitted.push((await store.admit(`capped-${i}`, 'capped', 'bulk', 10)).admitted);
    for (let i = 0; i < 3; i++) admitted.push((await store.admit(`free-${i}`, 'free', 'bulk', 10)).admitted);
    expect(admitted).toEqual([true, true, false, false, true, true, true]);
    expect(await store.inFlight()).toBe(5);
    const events = await redis.xrange(tasks.keys.events(), '-', '+');
    const throttled = events.filter(([, f]) => f[1] === 'tenant.throttled');
    expect(throttled).toHaveLength(1);
    const data = JSON.parse(throttled[0]![1][9]!);
    expect(data).toMatchObject({ tenant: 'capped', maxInFlight: 2, inFlight: 2 });
    // A slot of the capped tenant frees: its next task takes it, and the throttle period ends.
    expect(await store.release('capped-0', 10)).toEqual(['capped-2']);
    const figures = await store.tenants();
    expect(figures.find((f) => f.tenant === 'capped')).toMatchObject({
      inFlight: 2,
      queued: 1,
      ended: 1,
      maxInFlight: 2,
    });
    // Raising the cap at run time lets the waiting task in on the next scheduling.
    await store.setTenant('capped', { maxInFlight: 5 });
    expect(await store.schedule(10)).toEqual(['capped-3']);
  });

  it('serves the interactive lane ahead of bulk', async () => {
    const { store } = fresh();
    await store.admit('hold', 'z', 'bulk', 1);
    await register(store, 'bulky', 5, 'bulk');
    await register(store, 'inter', 2, 'interactive');
    const order = await drain(store, 'hold', 4);
    expect(order).toEqual(['inter', 'inter', 'bulky', 'bulky']);
  });

  it('skips a waiting task that ended meanwhile, and release drops a waiting task from the line', async () => {
    const { store, tasks } = fresh();
    await store.admit('hold', 'z', 'bulk', 1);
    await register(store, 'a', 1);
    const [gone] = await register(store, 'b', 1);
    const [dropped, kept] = await register(store, 'c', 2);
    await tasks.finish(gone!, undefined, 'cancelled', 'test');
    expect(await store.release(dropped!, 0)).toEqual([]);
    const order = await drain(store, 'hold', 3);
    expect(order).toEqual(['a', 'c']);
    expect(kept!.startsWith('c')).toBe(true);
  });

  it('the sweep returns slots of tasks that ended or vanished, and refills them', async () => {
    const { store, tasks } = fresh();
    await store.admit('t1', 'a', 'bulk', 2);
    await store.admit('t2', 'a', 'bulk', 2);
    await store.admit('t3', 'b', 'bulk', 2);
    await tasks.create({ taskUUID: 't1', jobId: 't1', batchId: undefined, mode: 'webhook', expected: 1 });
    await tasks.finish('t1', undefined, 'completed');
    // t2: neither a record nor a job (its worker died and the job was removed). t3 waits.
    const swept = await store.sweep(2);
    expect(swept.released).toBe(2);
    expect(swept.woken).toEqual(['t3']);
    expect(await store.inFlight()).toBe(1);
  });

  it('the sweep forgets tenants idle for TENANT_IDLE_FORGET_MS, and keeps busy or recent ones', async () => {
    const { store } = fresh();
    const t0 = 1_000_000;
    await store.admit('old-1', 'old', 'bulk', 5, t0);
    await store.release('old-1', 5, t0);
    await store.admit('busy-1', 'busy', 'bulk', 5, t0);
    await store.admit('recent-1', 'recent', 'bulk', 5, t0 + TENANT_IDLE_FORGET_MS);
    await store.release('recent-1', 5, t0 + TENANT_IDLE_FORGET_MS);
    const later = t0 + TENANT_IDLE_FORGET_MS + 1;
    await store.sweep(5, later);
    const names = (await store.tenants(later)).map((t) => t.tenant);
    expect(names).not.toContain('old');
    expect(names).toEqual(expect.arrayContaining(['busy', 'recent']));
  });

  it('the Relay handle sets tenants (validated) and lists them', async () => {
    const relay = createRelay({ connection: redis, queuePrefix: `kr-${uniqueId()}` });
    try {
      await expect(relay.setTenant('acme', { weight: 0 })).rejects.toThrow(ValidationError);
      await expect(relay.setTenant('bad name', { weight: 2 })).rejects.toThrow(ValidationError);
      await expect(relay.setTenant('acme', {})).rejects.toThrow(ValidationError);
      expect(await relay.setTenant('acme', { weight: 3, maxInFlight: 50 })).toMatchObject({
        tenant: 'acme',
        weight: 3,
        maxInFlight: 50,
      });
      expect((await relay.tenants()).map((t) => t.tenant)).toEqual(['acme']);
    } finally {
      await relay.close();
    }
  });
});
