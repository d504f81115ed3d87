// `npm start` survives restarts: the demo runs as a child process on a private data dir (its own
// redis-server, S3 server and simulator, on ports it records there). Interrupted with SIGINT mid-batch
// and started again, it resumes the batch and every task completes. A second start on the same data
// dir refuses in one line and starts nothing; the CLI finds the demo's Redis from the data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/open-context.js';
import { readDemoState } from '../../src/config/demo-state.js';
import { loadCliConfig } from '../../src/config/load-cli-config.js';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/embedded/data-dir-lock.js';
import { readBatchStatus } from '../../src/status/read-status.js';
import { freePort } from '../helpers/free-port.js';
import { runCli } from '../helpers/processes.js';
import { startRedis } from '../helpers/redis-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEADLINE_MS = 90_000;
const TASKS = 24;
/** What `npm start` runs (package.json), under this Node. */
const NPM_START = ['--import', 'tsx', '--import', './src/cli/demo-preflight.ts', 'src/cli/main.ts', 'demo'];

interface Demo {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) {
    // A demo killed by a failed test leaves its own redis-server (own process group) running.
    const url = readDemoState(d).redisUrl;
    if (url) {
      const r = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        commandTimeout: 2000,
      });
      r.on('error', () => {});
      await r
        .connect()
        .then(() => r.shutdown('NOSAVE'))
        .catch(() => undefined);
      r.disconnect();
    }
    rmSync(d, { recursive: true, force: true });
  }
});

function startDemo(env: Record<string, string>, args: string[] = []): Demo {
  return startDemoIn([process.execPath, ...NPM_START, ...args], env);
}

function startDemoIn(argv: string[], env: Record<string, string>): Demo {
  const [cmd = '', ...args] = argv;
  const proc = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

/** The exit code, or a failure showing the run's output if it does not exit in time. */
function exitOf(d: Demo, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not exit:\n${d.output()}`)), DEADLINE_MS);
  });
  return Promise.race([d.exited, late]).finally(() => clearTimeout(timer));
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

function release(s: Server): Promise<void> {
  return new Promise((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: () => string): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the demo across restarts', () => {
  it('SIGINT mid-batch, start again: every task completes; a concurrent start refuses in one line', {
    timeout: 4 * DEADLINE_MS,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kr-demo-'));
    dirs.push(dataDir);
    const env = {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      FIRST_POLL_AFTER_MS: '2000',
      MAX_POLL_INTERVAL_MS: '3000',
      LOG_LEVEL: 'warn',
    };

    const first = startDemo(env, ['--tasks', String(TASKS)]);
    const batchId = await until(
      () => /Enqueued demo batch (\S+)/.exec(first.output())?.[1],
      () => `the first run's batch\n${first.output()}`,
    );
    const recorded = readDemoState(dataDir);
    expect(first.output()).toContain(`Redis: ${recorded.redisUrl} (private redis-server`);
    expect(first.output()).toMatch(/persists: AOF/);
    const ctx = await openContext(loadCliConfig({ DATA_DIR: dataDir }));
    try {
      // Interrupted while tasks are with the provider: every item takes the demo simulator ≥ 500 ms.
      const mid = await until(
        async () => {
          const s = await readBatchStatus(ctx, batchId);
          return s && s.inFlight >= 1 ? s : undefined;
        },
        () => `tasks in flight\n${first.output()}`,
      );
      first.proc.kill('SIGINT');
      expect(mid.completed, 'interrupted mid-batch').toBeLessThan(TASKS);
    } finally {
      await ctx.close();
    }
    expect(await exitOf(first, 'the interrupted run')).toBe(130);
    expect(readFileSync(join(dataDir, 'demo.json'), 'utf8')).toContain(batchId);

    const second = startDemo(env);
    await until(
      () => (second.output().includes('Resuming demo batch') ? true : undefined),
      () => `the resume\n${second.output()}`,
    );
    expect(second.output()).toContain(`Resuming demo batch ${batchId} (${TASKS} tasks)`);
    expect(readDemoState(dataDir), 'same ports as the first run').toMatchObject({
      redisPort: recorded.redisPort,
      s3Port: recorded.s3Port,
      simulatorPort: recorded.simulatorPort,
    });

    // A third start while the second runs: refused before it starts anything.
    const before = readFileSync(join(dataDir, 'demo.json'), 'utf8');
    const third = startDemo(env);
    expect(await exitOf(third, 'the refused run')).toBe(1);
    const lines = third.output().trim().split('\n');
    expect(lines, third.output()).toEqual([
      `error: another kontext-relay demo (pid ${second.proc.pid}) is using ${dataDir}; stop it first`,
    ]);
    expect(readFileSync(join(dataDir, 'demo.json'), 'utf8'), 'the refused run recorded nothing').toBe(before);

    await until(
      () => (second.output().includes('Serving.') ? true : undefined),
      () => `the resumed batch to end\n${second.output()}`,
    );
    expect(second.output()).toContain(`Batch completed: ${TASKS} completed, 0 partial, 0 failed`);

    // The CLI, without REDIS_URL, finds the demo's Redis in the data dir.
    const status = await runCli(['status', batchId, '--json'], { DATA_DIR: dataDir });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      kind: 'batch',
      batchId,
      state: 'completed',
      total: TASKS,
      completed: TASKS,
    });
    second.proc.kill('SIGINT');
    expect(await exitOf(second, 'the resumed run')).toBe(130);
  });

  it('Ctrl-C while the progress bar is drawn shows the terminal cursor again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kr-demo-tty-'));
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    // `script` gives the demo a terminal, so it draws the bar (and hides the cursor).
    const command = `${process.execPath} ${NPM_START.join(' ')} --tasks 4`;
    const demo = startDemoIn(['script', '-qfec', command, '/dev/null'], env);
    const HIDE = '\u001B[?25l';
    const SHOW = '\u001B[?25h';
    await until(
      () => (demo.output().includes(HIDE) ? true : undefined),
      () => `the progress bar\n${demo.output()}`,
    );
    const pid = Number(readFileSync(join(dataDir, LOCK_FILE), 'utf8'));
    process.kill(pid, 'SIGINT');
    await exitOf(demo, 'the demo under script');
    const out = demo.output();
    expect(out.slice(out.lastIndexOf(HIDE)), 'the cursor is shown after it was hidden').toContain(SHOW);
  });

  it('after a SIGKILLed run, the next start takes over its lock and its still-running redis-server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kr-demo-kill-'));
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    const first = startDemo(env, ['--tasks', '0']);
    await until(
      () => (first.output().includes('Serving.') ? true : undefined),
      () => `the first run\n${first.output()}`,
    );
    const { redisUrl } = readDemoState(dataDir);
    first.proc.kill('SIGKILL');
    await exitOf(first, 'the killed run');
    expect(existsSync(join(dataDir, LOCK_FILE)), 'a killed run leaves its lock').toBe(true);

    const second = startDemo(env, ['--tasks', '0']);
    await until(
      () => (second.output().includes('Serving.') ? true : undefined),
      () => `the second run\n${second.output()}`,
    );
    expect(second.output()).toContain(
      `Redis: ${redisUrl} (private redis-server left running by an earlier run`,
    );
    second.proc.kill('SIGINT');
    expect(await exitOf(second, 'the second run')).toBe(130);
    expect(existsSync(join(dataDir, LOCK_FILE)), 'a clean stop removes its lock').toBe(false);
  });

  it('restarts on its recorded ports; a taken Redis or S3 port is replaced, a taken simulator port refuses', {
    timeout: 4 * DEADLINE_MS,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kr-demo-ports-'));
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    const serveOnce = async () => {
      const d = startDemo(env, ['--tasks', '0']);
      await until(
        () => (d.output().includes('Serving.') ? true : undefined),
        () => `the demo\n${d.output()}`,
      );
      const state = readDemoState(dataDir);
      d.proc.kill('SIGINT');
      expect(await exitOf(d, 'the demo')).toBe(130);
      return state;
    };
    const first = await serveOnce();
    expect(await serveOnce(), 'the same ports again').toMatchObject({
      redisPort: first.redisPort,
      s3Port: first.s3Port,
      simulatorPort: first.simulatorPort,
    });

    const blockers = await Promise.all([first.redisPort!, first.s3Port!].map(occupy));
    const moved = await serveOnce().finally(() => Promise.all(blockers.map(release)));
    expect(moved.redisPort).not.toBe(first.redisPort);
    expect(moved.s3Port).not.toBe(first.s3Port);
    expect(moved.simulatorPort).toBe(first.simulatorPort);

    const blocker = await occupy(first.simulatorPort!);
    try {
      const refused = startDemo(env, ['--tasks', '0']);
      expect(await exitOf(refused, 'the demo on a taken simulator port')).toBe(78);
      expect(refused.output().trim().split('\n').at(-1)).toBe(
        `error: the simulator's port ${first.simulatorPort} (recorded in ${dataDir}/demo.json) is in use by another program: free it, or delete demo.json to start afresh`,
      );
      expect(existsSync(join(dataDir, LOCK_FILE)), 'the lock is released').toBe(false);
      // What it had started before the failure was stopped again: the next start starts its own Redis.
      await release(blocker);
      const d = startDemo(env, ['--tasks', '0']);
      await until(
        () => (d.output().includes('Serving.') ? true : undefined),
        () => `the demo\n${d.output()}`,
      );
      expect(d.output()).toContain('(private redis-server, data under');
      d.proc.kill('SIGINT');
      expect(await exitOf(d, 'the demo')).toBe(130);
    } finally {
      await release(blocker);
    }
  });

  it('with a REDIS_URL that does not persist, it names that Redis, says so, and refuses to serve', async () => {
    const redis = await startRedis({ aof: false });
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'kr-demo-eph-'));
      dirs.push(dataDir);
      const env = {
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
      };
      const demo = startDemo(env, ['--tasks', '1']);
      expect(await exitOf(demo, 'the demo on an ephemeral Redis')).toBe(78);
      expect(demo.output()).toContain(
        `Redis: ${redis.url} (from REDIS_URL; does NOT persist: no persistence (appendonly no, save ""))`,
      );
      expect(demo.output()).toMatch(/^error: Redis has no persistence: .*ALLOW_EPHEMERAL_REDIS=true/m);
      expect(existsSync(join(dataDir, LOCK_FILE)), 'the lock is released').toBe(false);
    } finally {
      await redis.stop();
    }
  });

  it('a lock left by a killed run (its pid is gone) is taken over; a live one is not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kr-lock-'));
    dirs.push(dataDir);
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(join(dataDir, LOCK_FILE), `${gone.pid}\n`);
    const lock = lockDataDir(dataDir);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();

    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(alive);
    writeFileSync(join(dataDir, LOCK_FILE), `${alive.pid}\n`);
    expect(() => lockDataDir(dataDir)).toThrow(DataDirLockedError);
    alive.kill('SIGKILL');
  });
});
