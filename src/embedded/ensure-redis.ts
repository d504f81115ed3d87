// For the one-command start, which Redis to use, in order: REDIS_URL when it is set (it must answer);
// else the demo's own redis-server with AOF under <dataDir>/redis, on the port recorded from the last
// run when it is free (a redis-server left running on it from a killed run, with our dir, is adopted);
// else, without a redis-server binary, a Redis answering on the default URL. It reports what it found,
// persistence included, so the caller can say so.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';
import { type Persistence, readPersistence } from '../tasks/redis-persistence.js';
import { freePort, isPortFree } from './free-port.js';

const START_TIMEOUT_MS = 10_000;
const START_POLL_MS = 100;
const PROBE_TIMEOUT_MS = 1000;
const DEFAULT_URL = 'redis://127.0.0.1:6379';

export interface EmbeddedRedis {
  url: string;
  /** Where it came from: REDIS_URL, the demo's own server (started or adopted), or the default URL. */
  source: 'REDIS_URL' | 'started' | 'adopted' | 'default';
  /** The port of the demo's own server (to record for the next run). */
  port: number | undefined;
  persistence: Persistence;
  stop(): Promise<void>;
}

export interface EnsureRedisOptions {
  /** REDIS_URL when the user set it. */
  url: string | undefined;
  dataDir: string;
  /** The port recorded from the last run. */
  port: number | undefined;
}

export async function ensureRedis(o: EnsureRedisOptions): Promise<EmbeddedRedis> {
  if (o.url) {
    if (!(await answers(o.url))) throw new ConfigError(`no Redis answers at REDIS_URL=${o.url}`);
    return external(o.url, 'REDIS_URL');
  }
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    if (await answers(DEFAULT_URL)) return external(DEFAULT_URL, 'default');
    throw new ConfigError(
      `no Redis answers at ${DEFAULT_URL} and redis-server is not installed.\n` +
        '  Start one with:  docker compose up -d redis\n' +
        '  or install it:    apt-get install -y redis-server   (macOS: brew install redis)\n' +
        '  or point REDIS_URL at a running Redis.',
    );
  }
  const dir = resolve(o.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  if (o.port !== undefined) {
    const leftover = await ownServerOn(o.port, dir);
    if (leftover) return leftover;
  }
  const port = o.port !== undefined && (await isPortFree(o.port)) ? o.port : await freePort();
  return startOwn(port, dir);
}

async function external(url: string, source: 'REDIS_URL' | 'default'): Promise<EmbeddedRedis> {
  return { url, source, port: undefined, persistence: await persistenceAt(url), stop: async () => {} };
}

/** A redis-server of ours still running from a killed run (same --dir): use it, and stop it at the end. */
async function ownServerOn(port: number, dir: string): Promise<EmbeddedRedis | undefined> {
  const url = `redis://127.0.0.1:${port}`;
  const c = probe(url);
  try {
    await c.connect();
    const reply = (await c.config('GET', 'dir')) as string[];
    if (reply[1] !== dir) return undefined;
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
  return {
    url,
    source: 'adopted',
    port,
    persistence: await persistenceAt(url),
    async stop() {
      const s = probe(url);
      try {
        await s.connect();
        await s.shutdown(); // fsyncs the AOF
      } catch {
        /* the connection drops as it shuts down */
      } finally {
        s.disconnect();
      }
    },
  };
}

async function startOwn(port: number, dir: string): Promise<EmbeddedRedis> {
  // Its own process group: the terminal's Ctrl-C reaches the demo, which stops Redis last.
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { stdio: 'ignore', detached: true },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new ConfigError(`could not start redis-server on port ${port} in ${dir}`);
    }
    await new Promise((r) => setTimeout(r, START_POLL_MS));
  }
  return {
    url,
    source: 'started',
    port,
    persistence: await persistenceAt(url),
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGTERM');
      }),
  };
}

async function persistenceAt(url: string): Promise<Persistence> {
  const c = probe(url);
  try {
    await c.connect();
    return await readPersistence(c);
  } finally {
    c.disconnect();
  }
}

function probe(url: string): Redis {
  const c = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: PROBE_TIMEOUT_MS,
    // Something other than Redis may hold the port and never answer.
    commandTimeout: PROBE_TIMEOUT_MS,
  });
  c.on('error', () => {});
  return c;
}

async function answers(url: string): Promise<boolean> {
  const c = probe(url);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}
