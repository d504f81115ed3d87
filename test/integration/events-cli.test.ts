// The CLI commands as real processes on real Redis: `tail` prints the stream's events (JSON lines or
// one human line each) and stops cleanly on SIGINT; `budget` releases a held batch.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchStore } from '../../src/tasks/batch-store.js';
import { TaskStore } from '../../src/tasks/task-store.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';

// The commands are registered on a bare program here, as src/cli/main.ts registers them.
const ENTRY = `
import { Command } from 'commander';
import { registerTail } from './src/cli/commands/tail.ts';
import { registerBudget } from './src/cli/commands/budget.ts';
const program = new Command('kontext-relay');
registerTail(program);
registerBudget(program);
await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;
const WAIT_MS = 20_000;

let redis: Redis;
let prefix: string;
let tasks: TaskStore;
let batches: BatchStore;
beforeAll(() => {
  redis = new Redis(testRedisUrl());
  prefix = `kr-${uniqueId()}`;
  tasks = new TaskStore(redis, prefix, 'image-inference');
  batches = new BatchStore(redis, tasks.keys);
});
afterAll(() => redis.disconnect());

function cli(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args],
    {
      env: { ...process.env, REDIS_URL: testRedisUrl(), QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('kontext-relay tail / budget', () => {
  it('tail --json --from 0 --batch prints that batch’s events, then new ones live, and exits on SIGINT', async () => {
    const batchId = uniqueId('b');
    await tasks.finish(crypto.randomUUID(), batchId, 'completed', '', 0.04, []);
    await tasks.finish(crypto.randomUUID(), 'another', 'failed', 'not mine');
    const run = cli(['tail', '--json', '--from', '0', '--batch', batchId]);
    await until('the first line', () => run.out().split('\n').length >= 2);
    await tasks.finish(crypto.randomUUID(), batchId, 'failed', 'provider said no');
    await until('the live line', () => run.out().split('\n').length >= 3);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const lines = run
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.type, l.batchId])).toEqual([
      ['task.completed', batchId],
      ['task.failed', batchId],
    ]);
    expect(lines[1].data).toEqual({ reason: 'provider said no' });
  });

  it('tail prints one human line per event; bad options are refused', async () => {
    const run = cli(['tail', '--from', '0', '--types', 'task.failed']);
    await until('a line', () => run.out().includes('provider said no'));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.out()).toMatch(/^\S+Z \d+-\d+ task\.failed\s+batch=\S+ task=\S+ {2}provider said no$/m);
    expect(run.out()).not.toContain('task.completed');
    const bad = cli(['tail', '--types', 'task.exploded']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.err()).toContain('unknown event type(s): task.exploded');
  });

  it('budget <batchId> <usd> releases a held batch and reports it', async () => {
    const batchId = uniqueId('b');
    await batches.open({ batchId, budgetUsd: 0.01 });
    expect(await batches.admitToBudget(batchId, crypto.randomUUID(), 0.04)).toMatchObject({
      admitted: false,
    });
    const run = cli(['budget', batchId, '2.5', '--json']);
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.out())).toEqual({
      batchId,
      budgetUsd: 2.5,
      resumed: true,
      woken: 0,
      spent: 0,
      held: false,
    });
    expect(await batches.get(batchId)).toMatchObject({ budgetUsd: 2.5, held: false });
  });
});
