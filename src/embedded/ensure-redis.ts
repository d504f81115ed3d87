// For the one-command start: use Redis at REDIS_URL if it answers; otherwise start a private
// redis-server (AOF on, under the data dir) when the binary is installed; otherwise explain.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';

const START_TIMEOUT_MS = 10_000;

export interface EmbeddedRedis {
  url: string;
  started: boolean;
  stop(): Promise<void>;
}

export async function ensureRedis(url: string, dataDir: string): Promise<EmbeddedRedis> {
  if (await answers(url)) return { url, started: false, stop: async () => {} };
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new ConfigError(
      `no Redis answers at ${url} and redis-server is not installed.\n` +
        '  Start one with:  docker compose up -d redis\n' +
        '  or install it:    apt-get install -y redis-server   (macOS: brew install redis)\n' +
        '  or point REDIS_URL at a running Redis.',
    );
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { stdio: 'ignore' },
  );
  const local = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(local))) {
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new ConfigError(`could not start redis-server in ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: local,
    started: true,
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
      }),
  };
}

async function answers(url: string): Promise<boolean> {
  const c = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}
