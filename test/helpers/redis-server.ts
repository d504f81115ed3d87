// Starts a private redis-server on a free loopback port, so no test depends on leftover state.
// Fails loudly (never skips) when the binary is missing: install it with `apt-get install -y redis-server`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

const START_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  /** SIGKILL the server and start it again on the same port and dir (AOF reload when enabled). */
  restart(opts?: { downMs?: number }): Promise<void>;
}

export async function startRedis(
  opts: { aof?: boolean; port?: number; extraArgs?: string[] } = {},
): Promise<PrivateRedis> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server']);
  if (which.status !== 0) {
    throw new Error('redis-server not found on PATH: install it (apt-get install -y redis-server)');
  }
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'kr-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.aof ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--protected-mode',
    'no',
    ...(opts.extraArgs ?? []),
  ];
  let proc: ChildProcess = await launch(args, port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      await kill(proc);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart({ downMs = 0 } = {}) {
      await kill(proc, 'SIGKILL');
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      proc = await launch(args, port);
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  try {
    // AOF replay: PING answers LOADING until the data is back.
    await waitForRedis(port, async (c) => (await c.ping()) === 'PONG', START_TIMEOUT_MS);
    return proc;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

/** Polls a Redis on loopback with a fresh connection until `ready` answers true, or throws at the deadline. */
export async function waitForRedis(
  port: number,
  ready: (c: Redis) => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const c = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      if (await ready(c)) return;
    } catch {
      /* not up yet */
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`redis on port ${port} not ready in ${timeoutMs} ms`);
}

function kill(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}
