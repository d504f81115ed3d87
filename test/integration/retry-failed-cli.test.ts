// `kontext-relay retry-failed` as a real process against a pipeline on real parts: it says how many
// images the provider will bill before doing anything, refuses without a terminal unless --yes, and
// with --yes re-runs only a partial task's failed slot.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readTaskStatus } from '../../src/status/read-status.js';
import { slotRetryProviderUuid } from '../../src/tasks/attempt-uuids.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

// The command is registered on a bare program here, as src/cli/main.ts registers it.
const ENTRY = `
import { Command } from 'commander';
import { registerControl } from './src/cli/commands/control.ts';
const program = new Command('kontext-relay');
registerControl(program);
await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

function cli(pl: Pipeline, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = pl.config;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args],
    {
      env: {
        ...process.env,
        REDIS_URL: c.REDIS_URL,
        QUEUE_PREFIX: c.QUEUE_PREFIX,
        FIRST_POLL_AFTER_MS: '400',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'], // no terminal on stdin
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

describe('retry-failed (CLI)', () => {
  it('prints the images it will bill, refuses without a terminal or --yes, and with --yes re-runs only the failed slot', async () => {
    p = await startPipeline({ env: { SLOT_RETRY_ATTEMPTS: '0', FIRST_POLL_AFTER_MS: '400' } });
    const t = {
      positivePrompt: 'a partial task',
      width: 1024,
      height: 1024,
      numberResults: 3,
      taskUUID: randomUUID(),
    };
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 2 }]);
    const batch = await p.producer.enqueueBatch([t]);
    await waitForBatch(p, batch.batchId, 30_000);
    await p.sim.idle();
    expect((await readTaskStatus(p.svc, t.taskUUID))?.state).toBe('partial');
    const generated = p.sim.results().length;

    const refused = await cli(p, ['retry-failed', batch.batchId]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('1 partial task(s) run again for their failed slots only');
    expect(refused.err).toContain('the provider will generate and bill 1 image(s)');
    expect(refused.err).toContain('--yes');
    expect((await readTaskStatus(p.svc, t.taskUUID))?.state).toBe('partial');
    expect(p.sim.results()).toHaveLength(generated);

    const done = await cli(p, ['retry-failed', batch.batchId, '--yes']);
    expect(done.code).toBe(0);
    expect(done.out).toContain('the provider will generate and bill 1 image(s)');
    expect(done.out).toContain('retried 1 task(s)');
    await until(
      async () => (await readTaskStatus(p!.svc, t.taskUUID))?.state === 'completed',
      30_000,
      'the task completes',
    );
    await p.sim.idle();
    const added = p.sim.results().slice(generated);
    expect(added.map((r) => ({ taskUUID: r.taskUUID, error: r.error }))).toEqual([
      { taskUUID: slotRetryProviderUuid(t.taskUUID, 1), error: undefined },
    ]);
  });
});
