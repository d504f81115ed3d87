// `kontext-relay enqueue` and `wait` as a user runs them: real CLI processes against a private AOF Redis,
// the S3 server and the simulator over HTTP. A re-run bills nothing (asserted from the simulator's own
// counters), a taskUUID of another batch is reported, and waiting survives a Redis restart with the
// exit codes the README lists.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorStats } from '../../src/simulator/index.js';
import { readBatchStatus, readBatchTasks } from '../../src/status/read-status.js';
import { testS3Endpoint, uniqueId } from '../helpers/env.js';
import { freePort } from '../helpers/free-port.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { type CliResult, runCli, type SimulatorAdmin, simulatorAdmin } from '../helpers/processes.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/relay-observer.js';

const CLI_TIMEOUT_MS = 120_000;
const SETTLE_MS = 60_000;

let redis: PrivateRedis;
let p: Pipeline;
let sim: SimulatorAdmin;
let dir: string;

beforeAll(async () => {
  redis = await startRedis({ aof: true });
  p = await startPipeline({ env: { REDIS_URL: redis.url } });
  sim = simulatorAdmin(p.sim.baseUrl);
  dir = mkdtempSync(join(tmpdir(), 'kr-rerun-'));
});
afterAll(async () => {
  await p?.close();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const task = (prompt: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ positivePrompt: prompt, width: 1024, height: 1024, ...extra });

function file(name: string, lines: string[]): string {
  const path = join(dir, `${name}-${uniqueId()}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(
    args,
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: p.config.QUEUE_PREFIX,
      S3_ENDPOINT: testS3Endpoint(),
      LOG_LEVEL: 'silent',
      ...env,
    },
    { timeoutMs: CLI_TIMEOUT_MS },
  );
}

function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

interface Summary {
  batchId: string;
  total: number;
  enqueued: number;
  alreadyInBatch: number;
  skipped: { index: number; line?: number; reason: string; existingBatchId?: string | null }[];
  wait?: string;
  status?: { state: string; completed: number; total: number } | null;
}

const billed = (a: SimulatorStats, b: SimulatorStats) => ({
  tasks: b.tasksAccepted - a.tasksAccepted,
  images: b.itemsGenerated - a.itemsGenerated,
});

describe('re-running `enqueue`', () => {
  it('the same file enqueued again (lines with and without taskUUIDs) bills each task once', async () => {
    const before = await sim.stats();
    const path = file('rerun', [
      task('line one, no taskUUID'),
      task('line two, no taskUUID, two images', { numberResults: 2 }),
      task('line three, own taskUUID', { taskUUID: randomUUID() }),
      '',
      task('line five, own taskUUID', { taskUUID: randomUUID() }),
      task('line one, no taskUUID'), // the same content as line 1: a task of its own
    ]);
    const first = await cli(['enqueue', path, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s1 = json<Summary>(first);
    expect(s1).toMatchObject({ total: 5, enqueued: 5, alreadyInBatch: 0, skipped: [] });
    // Without --batch the id is new; the CLI says how to re-run this batch without paying twice.
    expect(first.stderr).toContain(`pass --batch ${s1.batchId}`);

    const again = await cli(['enqueue', path, '--batch', s1.batchId, '--wait', '--timeout', '90', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json<Summary>(again)).toMatchObject({
      batchId: s1.batchId,
      total: 5,
      enqueued: 0,
      alreadyInBatch: 5,
      skipped: [],
      wait: 'ended',
      status: { state: 'completed', completed: 5, total: 5 },
    });
    const third = await cli(['enqueue', path, '--batch', s1.batchId]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('0 task(s) enqueued, 5 already in the batch (not added again)');

    await sim.idle();
    expect(billed(before, await sim.stats()), 'provider tasks and images billed').toEqual({
      tasks: 5,
      images: 6,
    });
    const tasks = await readBatchTasks(p.svc, s1.batchId, 0, 100);
    expect(tasks.map((t) => t.state)).toEqual(Array(5).fill('completed'));
  });

  it('lines appended to the file are added on the next run; the lines before them are not added again', async () => {
    const before = await sim.stats();
    const batchId = `append-${uniqueId()}`;
    const lines = [task('append one'), task('append two')];
    const first = await cli(['enqueue', file('append', lines), '--batch', batchId, '--wait', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json<Summary>(first)).toMatchObject({ total: 2, enqueued: 2, alreadyInBatch: 0, wait: 'ended' });
    const more = [...lines, task('append three'), task('append four')];
    const second = await cli(['enqueue', file('append', more), '--batch', batchId, '--wait', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(json<Summary>(second)).toMatchObject({
      total: 4,
      enqueued: 2,
      alreadyInBatch: 2,
      status: { state: 'completed', completed: 4 },
    });
    await sim.idle();
    expect(billed(before, await sim.stats())).toEqual({ tasks: 4, images: 4 });
    // The batch had ended; the new lines reopened it, and it ended again: one batch.completed each time.
    const events = await p.redis.xrange(p.svc.tasks.keys.events(), '-', '+');
    const ends = events
      .map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))))
      .filter((e) => e.type === 'batch.completed' && e.batchId === batchId)
      .map((e) => (JSON.parse(e.data ?? '{}') as { total: number; completed: number }).total);
    expect(ends).toEqual([2, 4]);
  });

  it('a taskUUID of another batch is skipped and reported with that batch; --allow-existing exits 0', async () => {
    const [u1, u2, alone] = [randomUUID(), randomUUID(), randomUUID()];
    const x = `x-${uniqueId()}`;
    const ownX = await cli([
      'enqueue',
      file('x', [task('batch x, one', { taskUUID: u1 }), task('batch x, two', { taskUUID: u2 })]),
      '--batch',
      x,
    ]);
    expect(ownX.code, ownX.stderr).toBe(0);
    await p.producer.enqueue(JSON.parse(task('enqueued on its own', { taskUUID: alone })));
    const y = file('y', [
      task('batch x, one', { taskUUID: u1 }),
      task('new in y'),
      task('enqueued on its own', { taskUUID: alone }),
    ]);

    const refused = await cli(['enqueue', y, '--batch', `y-${uniqueId()}`, '--json']);
    expect(refused.code, 'exit 5: some lines skipped').toBe(5);
    const sy = json<Summary>(refused);
    expect(sy).toMatchObject({ total: 1, enqueued: 1, alreadyInBatch: 0 });
    expect(sy.skipped).toEqual([
      expect.objectContaining({ index: 0, line: 1, reason: 'TASK_EXISTS', existingBatchId: x }),
      expect.objectContaining({ index: 2, line: 3, reason: 'TASK_EXISTS', existingBatchId: null }),
    ]);

    const z = `z-${uniqueId()}`;
    const allowed = await cli(['enqueue', y, '--batch', z, '--allow-existing']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(
      `skipped #0 (line 1) [TASK_EXISTS]: taskUUID: taskUUID ${u1} already belongs to batch ${x}`,
    );
    expect(allowed.stdout).toContain(
      `(line 3) [TASK_EXISTS]: taskUUID: taskUUID ${alone} was already enqueued on its own`,
    );
    expect(allowed.stdout).toContain(`batch ${z}: 1 task(s) enqueued, 2 skipped; 1 task(s) in the batch`);

    // The existing tasks stayed where they were: batch x still holds both, and ends with both.
    expect((await waitForBatch(p, x, SETTLE_MS)).completed).toBe(2);
    expect((await waitForBatch(p, sy.batchId, SETTLE_MS)).total).toBe(1);
  });
});

describe('waiting commands and their exit codes', () => {
  it('`enqueue --wait` rides out a Redis restart and exits 0 when the batch completes', async () => {
    await sim.setFaults({ latency: { minMs: 3000, maxMs: 4000 } });
    try {
      const batchId = `restart-${uniqueId()}`;
      const path = file('restart', [task('restart one'), task('restart two'), task('restart three')]);
      const running = cli(['enqueue', path, '--batch', batchId, '--wait', '--json']);
      await until(
        async () => ((await readBatchStatus(p.svc, batchId))?.inFlight ?? 0) > 0,
        SETTLE_MS,
        'tasks at the provider',
      );
      await redis.restart({ downMs: 1500 });
      const r = await running;
      expect(r.stderr, 'the CLI saw Redis go away').toContain('reconnecting');
      expect(r.stderr, 'and come back').toContain('redis connection restored');
      expect(r.code, r.stderr).toBe(0);
      expect(json<Summary>(r)).toMatchObject({
        wait: 'ended',
        status: { state: 'completed', completed: 3, total: 3 },
      });
    } finally {
      await sim.setFaults({ latency: { minMs: 5, maxMs: 40 } });
    }
  });

  it('a batch with a failed task exits 1', async () => {
    await sim.setFaults({ itemError: 1 });
    try {
      const r = await cli(['enqueue', file('fail', [task('this one fails')]), '--wait', '--json']);
      expect(r.code, r.stderr).toBe(1);
      expect(json<Summary>(r).wait).toBe('ended');
    } finally {
      await sim.setFaults({ itemError: 0 });
    }
  });

  it('an unknown batch exits 3', async () => {
    const r = await cli(['wait', `nope-${uniqueId()}`, '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ wait: 'unknown', status: null });
  });

  it('a batch that Redis loses while we wait (restarted without persistence) exits 3', async () => {
    const volatile = await startRedis({ aof: false });
    try {
      const env = { REDIS_URL: volatile.url, QUEUE_PREFIX: `kr-${uniqueId()}` };
      const enqueued = await cli(['enqueue', file('lost', [task('forgotten')]), '--batch', 'lost'], env);
      expect(enqueued.code, enqueued.stderr).toBe(0);
      // No worker serves this Redis: the batch stays open until Redis forgets it.
      const waiting = cli(['wait', 'lost', '--json'], env);
      const probe = new Redis(volatile.url);
      try {
        const clients = async () =>
          String(await probe.call('CLIENT', 'LIST'))
            .trim()
            .split('\n').length;
        await until(async () => (await clients()) > 1, SETTLE_MS, 'the waiting CLI connected');
      } finally {
        probe.disconnect();
      }
      await volatile.restart();
      const r = await waiting;
      expect(r.code, r.stderr).toBe(3);
      expect(json(r)).toMatchObject({ wait: 'unknown', status: null });
    } finally {
      await volatile.stop();
    }
  });

  it('giving up exits 4: --timeout passed, or Redis unreachable until it passed', async () => {
    // A queue no worker serves: its batch never ends.
    const idle = { QUEUE_PREFIX: `kr-${uniqueId()}` };
    const own = randomUUID();
    const enqueued = await cli(
      ['enqueue', file('idle', [task('nobody runs me', { taskUUID: own })]), '--batch', 'idle', '--json'],
      idle,
    );
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const waited = await cli(['wait', 'idle', '--timeout', '1'], idle);
    expect(waited.code).toBe(4);
    expect(waited.stderr).toContain('gave up waiting for batch idle (--timeout passed)');
    // A TASK_EXISTS line (exit 5) and a wait that gives up (exit 4): the waiting outcome wins.
    const enqueueWait = await cli(
      [
        'enqueue',
        file('idle2', [task('nobody runs me either'), task('nobody runs me', { taskUUID: own })]),
        '--batch',
        'idle-2',
        '--wait',
        '--timeout',
        '1',
      ],
      idle,
    );
    expect(enqueueWait.stdout).toContain('[TASK_EXISTS]');
    expect(enqueueWait.code).toBe(4);

    const nowhere = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const unreachable = await cli(['wait', 'idle', '--timeout', '2', '--json'], nowhere);
    expect(unreachable.code, unreachable.stderr).toBe(4);
    expect(json(unreachable)).toMatchObject({ wait: 'gave-up', why: 'redis-unreachable' });
  });

  it('`enqueue --help` documents re-runs and the exit codes', async () => {
    const r = await cli(['enqueue', '--help']);
    expect(r.stdout).toContain(
      'running the same file again with the same --batch adds nothing and bills nothing',
    );
    expect(r.stdout).toMatch(/Exit codes: 0 .* 1 .* 2 .* 3 .* 4 .* 5 /s);
  });
});
