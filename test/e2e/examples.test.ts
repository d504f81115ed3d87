// Every README example is a file under examples/, run here as a user runs it: its own process, importing
// 'kontext-relay', configured by the environment, against a real pipeline (Redis, S3 server, simulator
// over HTTP). Each must exit by itself with status 0: a handle left open would keep it running.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';

/** An example that has not exited by then has left something open. */
const EXIT_TIMEOUT_MS = 45_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run examples/<file> with the pipeline's Redis and prefix; 'kontext-relay' resolves to src/. */
function runExample(p: Pipeline, file: string, env: Record<string, string> = {}, args: string[] = []) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: 'tsconfig.check.json',
        REDIS_URL: p.config.REDIS_URL,
        QUEUE_PREFIX: p.config.QUEUE_PREFIX,
        LOG_LEVEL: 'silent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`examples/${file} did not exit by itself\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, EXIT_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('examples/', () => {
  it("the README's library example is examples/enqueue-and-wait.ts, word for word", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### As a library'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(readFileSync('examples/enqueue-and-wait.ts', 'utf8'));
  });

  it('enqueue-and-wait.ts enqueues a batch, waits for it, lists every stored output and exits', async () => {
    p = await startPipeline();
    const r = await runExample(p, 'enqueue-and-wait.ts', { EXAMPLE_BATCH_ID: 'ex-wait' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('batch ex-wait: 2 of 2 tasks enqueued');
    expect(r.stdout).toContain('batch ex-wait completed: 2 completed, 0 failed');
    // 1 + 2 outputs, each an object the relay really stored.
    const keys = [...r.stdout.matchAll(/s3:\/\/[^/]+\/(\S+)/g)].map((m) => m[1]!);
    expect(keys).toHaveLength(3);
    for (const key of keys) expect((await p.svc.store.get(key)).length).toBeGreaterThan(0);
  });

  it('stream-events.ts prints each task event and the batch end, then exits', async () => {
    p = await startPipeline();
    const r = await runExample(p, 'stream-events.ts', { EXAMPLE_BATCH_ID: 'ex-events' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes(' task.completed '))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/ batch\.completed: 2 completed, 0 failed$/);
    // Event ids are stream ids in increasing order: what a consumer stores to resume.
    const ids = lines.map((l) => l.split(' ')[0]!);
    expect([...ids].sort((a, b) => (a.localeCompare(b, 'en', { numeric: true }) > 0 ? 1 : -1))).toEqual(ids);
  });

  it('retry-batch.ts re-runs a batch whose tasks failed, and it completes', async () => {
    p = await startPipeline({ sim: { faults: { itemError: 1 } } });
    const batch = await p.producer.enqueueBatch(
      [1, 2].map((i) => ({ positivePrompt: `retry example ${i}`, width: 1024, height: 1024 })),
      { batchId: 'ex-retry' },
    );
    expect(await waitForBatch(p, batch.batchId)).toMatchObject({ failed: 2 });
    p.sim.setFaults({ itemError: 0 });
    const r = await runExample(p, 'retry-batch.ts', {}, ['ex-retry']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('retried 2 task(s); 0 could not be re-run');
    expect(r.stdout).toContain('batch ex-retry completed: 2 completed, 0 failed');
  });

  it('retry-batch.ts names an unknown batch and exits 3', async () => {
    p = await startPipeline({ role: 'webhook' });
    const r = await runExample(p, 'retry-batch.ts', {}, ['no-such-batch']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('unknown batch no-such-batch');
  });
});
