// The CLI explains itself: one-line errors with a hint instead of stack dumps (missing file, Redis not
// reachable, port in use); cancel / retry-failed of an unknown batch exit 3 and write nothing; --callback
// without EVENTS_WEBHOOK_SECRET is refused at enqueue, and EVENTS_WEBHOOK_URL without it at service start.
// Real processes (`node --import tsx src/cli/main.ts …`) on the run's real Redis.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { startService } from '../../src/service/start-service.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { freePort } from '../helpers/free-port.js';
import { runCli } from '../helpers/processes.js';

const STACK_LINE = /^\s+at /m;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(testEnv().REDIS_URL!);
});
afterAll(() => redis.quit());

async function keysOf(env: Record<string, string>): Promise<string[]> {
  return redis.keys(`*${env.QUEUE_PREFIX}*`);
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

describe('CLI errors', () => {
  it('a missing file: one line and a hint, nothing written', async () => {
    const env = testEnv();
    const r = await runCli(['enqueue', '/nonexistent/tasks.jsonl'], env);
    expect(r.code).toBe(EXIT.FAILURES);
    expect(lines(r.stderr)).toEqual([
      'error: no such file: /nonexistent/tasks.jsonl',
      expect.stringMatching(/^hint: /),
    ]);
    expect(await keysOf(env)).toEqual([]);
  });

  it('Redis not reachable: one line naming the URL (without its password) and a hint', async () => {
    const port = await freePort();
    const r = await runCli(['status', 'some-batch'], {
      ...testEnv(),
      REDIS_URL: `redis://user:hunter2@127.0.0.1:${port}`,
    });
    expect(r.code).toBe(EXIT.FAILURES);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).not.toContain('Unhandled error event');
    expect(lines(r.stderr)).toEqual([
      `error: cannot reach Redis at redis://user:***@127.0.0.1:${port}`,
      expect.stringMatching(/^hint: .*REDIS_URL/),
    ]);
  });

  it('a port in use: one line naming the port and a hint', async () => {
    const holder: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    );
    try {
      const r = await runCli(['simulator', '--port', String(port)], testEnv());
      expect(r.code).toBe(EXIT.FAILURES);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(lines(r.stderr)).toEqual([
        `error: port ${port} is already in use`,
        expect.stringMatching(/^hint: /),
      ]);
    } finally {
      holder.close();
    }
  });
});

describe('unknown batches', () => {
  for (const command of [['cancel'], ['retry-failed', '--yes']]) {
    it(`${command[0]} of an unknown batch exits 3 and writes nothing`, async () => {
      const env = testEnv();
      const r = await runCli([...command, 'no-such-batch'], env);
      expect(r.code).toBe(EXIT.UNKNOWN_BATCH);
      expect(lines(r.stderr)[0]).toBe('error: no batch no-such-batch');
      expect(r.stdout).toBe('');
      // Not the batch's cancel flag, not an audit entry, not an event.
      expect(await keysOf(env)).toEqual([]);
    });
  }
});

describe('callbacks need EVENTS_WEBHOOK_SECRET', () => {
  it('enqueue --callback without it is refused before anything is written', async () => {
    const env = testEnv();
    const dir = mkdtempSync(join(tmpdir(), 'kr-cb-'));
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, `${JSON.stringify({ positivePrompt: 'x', width: 1024, height: 1024 })}\n`);
    const r = await runCli(['enqueue', file, '--callback', 'http://127.0.0.1:9/hook'], env);
    expect(r.code).toBe(EXIT.CONFIG);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^error: --callback needs EVENTS_WEBHOOK_SECRET/),
    ]);
    expect(await keysOf(env)).toEqual([]);
  });

  it('the service refuses to start with EVENTS_WEBHOOK_URL but no secret', async () => {
    const config = testConfig({ EVENTS_WEBHOOK_URL: 'http://127.0.0.1:9/hook', RUNWARE_API_KEY: 'k' });
    await expect(startService({ config, role: 'webhook' })).rejects.toThrow(
      /EVENTS_WEBHOOK_URL is set but EVENTS_WEBHOOK_SECRET is not/,
    );
    expect(await keysOf({ QUEUE_PREFIX: config.QUEUE_PREFIX })).toEqual([]);
  });
});
