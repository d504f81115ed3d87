// Fair share (issue 14) through the whole pipeline: two worker services share one MAX_IN_FLIGHT, a
// later small batch is served alongside a big one instead of after it, a tenant's cap binds (with its
// tenant.throttled event), and status/metrics show per-tenant figures.
import { afterEach, describe, expect, it } from 'vitest';
import { cancelBatch } from '../../src/control/cancel-batch.js';
import { mountDashboard } from '../../src/dashboard/mount-dashboard.js';
import { parseStreamEntry } from '../../src/events/event-types.js';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { readBatchTasks } from '../../src/status/read-status.js';
import { testEnv } from '../helpers/env.js';
import { maxOverlap } from '../helpers/fair-share.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { until } from '../helpers/relay-observer.js';

const CAP = 4;
const BIG = 40;
const SMALL = 10;

let p: Pipeline | undefined;
let second: RunningService | undefined;
afterEach(async () => {
  await second?.close();
  await p?.close();
  p = undefined;
  second = undefined;
});

const task = (tag: string, i: number) => ({
  positivePrompt: `fair share ${tag} ${i}`,
  width: 1024,
  height: 1024,
});

async function startFairPipeline(env: Record<string, string> = {}): Promise<Pipeline> {
  const pipe = await startPipeline({
    sim: { latency: { minMs: 150, maxMs: 300 } },
    env: { MAX_IN_FLIGHT: String(CAP), ...env },
    mount: (app, ctx) => mountDashboard(app, ctx, {}),
  });
  // A second worker service on the same Redis: both admit through the one scheduler.
  second = await startService({ config: pipe.config, role: 'worker', worker: { lockDurationMs: 5000 } });
  return pipe;
}

describe('fair share across tenants', () => {
  it('two workers never exceed MAX_IN_FLIGHT, and a later small batch is served alongside a big one', async () => {
    p = await startFairPipeline();
    const pipe = p;
    let sampledMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sampledMax = Math.max(sampledMax, await pipe.svc.admission.inFlight());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const big = await pipe.producer.enqueueBatch(Array.from({ length: BIG }, (_, i) => task('big', i)));
    const small = await pipe.producer.enqueueBatch(Array.from({ length: SMALL }, (_, i) => task('small', i)));
    const [bigEnd, smallEnd] = [
      await waitForBatch(pipe, big.batchId),
      await waitForBatch(pipe, small.batchId),
    ];
    sampling = false;
    await sampler;
    expect(bigEnd).toMatchObject({ state: 'completed', completed: BIG });
    expect(smallEnd).toMatchObject({ state: 'completed', completed: SMALL });

    const bigTasks = await readBatchTasks(pipe.svc, big.batchId, 0, BIG);
    const smallTasks = await readBatchTasks(pipe.svc, small.batchId, 0, SMALL);
    const all = [...bigTasks, ...smallTasks];
    expect(maxOverlap(all), 'provider-side concurrency within the cap').toBeLessThanOrEqual(CAP);
    expect(sampledMax, 'slots held never above the cap').toBeLessThanOrEqual(CAP);
    expect(sampledMax).toBeGreaterThan(0);
    // First in, first out would submit every big task before the first small one. Fair share
    // alternates: the small batch is done while much of the big one still waits.
    const lastSmallSubmit = Math.max(...smallTasks.map((t) => t.submittedAt!));
    const bigAfter = bigTasks.filter((t) => t.submittedAt! > lastSmallSubmit).length;
    expect(bigAfter, 'big tasks submitted after the small batch was all submitted').toBeGreaterThanOrEqual(
      BIG / 4,
    );

    // Every slot was given back; each tenant (its batch id, by default) counted its ended tasks.
    expect(await pipe.svc.admission.inFlight()).toBe(0);
    const figures = await pipe.svc.admission.tenants();
    expect(figures.find((f) => f.tenant === big.batchId)).toMatchObject({
      inFlight: 0,
      queued: 0,
      ended: BIG,
    });
    expect(figures.find((f) => f.tenant === small.batchId)).toMatchObject({
      inFlight: 0,
      queued: 0,
      ended: SMALL,
    });
    const share = figures.reduce((s, f) => s + f.shareLastMinute, 0);
    expect(share).toBeCloseTo(1, 5);

    // The same figures on the command line and in Prometheus.
    const cli = await runCli(['status', '--tenants', '--json'], cliEnv(pipe));
    expect(cli.code, cli.stderr).toBe(0);
    const listed = JSON.parse(cli.stdout) as { tenants: { tenant: string; ended: number }[] };
    expect(listed.tenants.find((t) => t.tenant === small.batchId)?.ended).toBe(SMALL);
    const scraped = await pipe.svc.metrics.registry.metrics();
    expect(scraped).toContain(`kr_tenant_ended{tenant="${big.batchId}"} ${BIG}`);
    expect(scraped).toContain(`kr_fair_share_cap ${CAP}`);
    // And on the dashboard's overview.
    const page = await (await fetch(`${pipe.svc.url}/`)).text();
    expect(page).toContain('<h2>Tenants</h2>');
    expect(page).toContain(`<code>${small.batchId}</code>`);
    expect(page).toContain(`0 of ${CAP} in flight`);
  }, 120_000);

  it('a tenant’s max-in-flight binds across batches, set at run time, with one tenant.throttled event', async () => {
    p = await startFairPipeline();
    const pipe = p;
    const set = await runCli(
      ['tenant', 'set', 'acme', '--max-in-flight', '1', '--weight', '2'],
      cliEnv(pipe),
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('tenant acme: weight 2, max in flight 1');
    // Two batches of one tenant: its cap counts them together.
    const a = await pipe.producer.enqueueBatch(
      Array.from({ length: 4 }, (_, i) => task('acme-a', i)),
      { tenant: 'acme' },
    );
    const b = await pipe.producer.enqueueBatch(
      Array.from({ length: 4 }, (_, i) => task('acme-b', i)),
      { tenant: 'acme' },
    );
    const single = await pipe.producer.enqueue(task('solo', 0), { tenant: 'solo' });
    await waitForBatch(pipe, a.batchId);
    await waitForBatch(pipe, b.batchId);
    const acme = [
      ...(await readBatchTasks(pipe.svc, a.batchId, 0, 10)),
      ...(await readBatchTasks(pipe.svc, b.batchId, 0, 10)),
    ];
    expect(acme.every((t) => t.state === 'completed')).toBe(true);
    expect(maxOverlap(acme), 'acme never had two tasks in flight').toBe(1);
    const solo = await pipe.svc.tasks.get(single.taskUUID);
    expect(solo?.state).toBe('completed');

    const events = (await pipe.redis.xrange(pipe.svc.tasks.keys.events(), '-', '+'))
      .map(([id, fields]) => parseStreamEntry(id, fields))
      .filter((e) => e?.type === 'tenant.throttled');
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ type: 'tenant.throttled', data: { tenant: 'acme', maxInFlight: 1 } });

    const list = await runCli(['tenant', 'list'], cliEnv(pipe));
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/acme\s+2\s+1\s+0\s+0\s+8/);
  }, 120_000);

  it('cancelling a batch gives back its slots and its place in line', async () => {
    p = await startPipeline({ sim: { latency: { minMs: 2000, maxMs: 3000 } }, env: { MAX_IN_FLIGHT: '2' } });
    const pipe = p;
    const batch = await pipe.producer.enqueueBatch(Array.from({ length: 8 }, (_, i) => task('cancel', i)));
    const figures = async () => (await pipe.svc.admission.tenants()).find((t) => t.tenant === batch.batchId);
    await until(async () => (await figures())?.queued === 6, 30_000, 'two admitted, six waiting');
    expect(await pipe.svc.admission.inFlight()).toBe(2);
    await cancelBatch(pipe.svc, batch.batchId);
    // Workers that find the cancel first end the task themselves; either way all eight end cancelled.
    expect(await waitForBatch(pipe, batch.batchId)).toMatchObject({ state: 'cancelled', cancelled: 8 });
    await until(async () => (await pipe.svc.admission.inFlight()) === 0, 30_000, 'every slot given back');
    expect(await figures()).toMatchObject({ queued: 0, inFlight: 0 });
  }, 60_000);
});

/** The environment the CLI needs to see this pipeline's Redis state. */
function cliEnv(pipe: Pipeline): Record<string, string> {
  return testEnv({
    REDIS_URL: pipe.config.REDIS_URL,
    QUEUE_PREFIX: pipe.config.QUEUE_PREFIX,
    MAX_IN_FLIGHT: String(CAP),
  });
}
