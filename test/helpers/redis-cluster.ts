// Starts a real local Redis Cluster: three masters on free loopback ports, each in its own temp dir,
// joined with `redis-cli --cluster create`, ready once every node reports cluster_state:ok.
// Fails loudly (never skips) when redis-server or redis-cli is missing.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export const CLUSTER_MASTERS = 3;
/** Node start plus slot assignment plus gossip settle in about 2 s here; leave room for a busy CI. */
const CLUSTER_READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface LocalRedisCluster {
  /** `127.0.0.1:port` of every master, the form REDIS_CLUSTER_NODES takes. */
  nodes: string[];
  /** `redis://127.0.0.1:port` of one master: a plain REDIS_URL naming one cluster node. */
  seedUrl: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = CLUSTER_MASTERS): Promise<LocalRedisCluster> {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
      throw new Error(`${bin} not found on PATH: install it (apt-get install -y redis-server redis-tools)`);
    }
  }
  const started: { proc: ChildProcess; dir: string }[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => kill(s.proc)));
    for (const s of started) rmSync(s.dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      started.push(launchNode(port));
      ports.push(port);
    }
    await Promise.all(ports.map((p) => waitFor(p, async (c) => (await c.ping()) === 'PONG')));
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await Promise.all(
      ports.map((p) => waitFor(p, async (c) => /cluster_state:ok/.test(await c.cluster('INFO')))),
    );
    return { nodes, seedUrl: `redis://${nodes[0]}`, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function launchNode(port: number): { proc: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kr-cluster-'));
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
  return { proc, dir };
}

/** Polls one node with a fresh connection until `ready` answers true, or throws at the deadline. */
async function waitFor(port: number, ready: (c: Redis) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS;
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
  throw new Error(`redis cluster node on port ${port} not ready in ${CLUSTER_READY_TIMEOUT_MS} ms`);
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}
