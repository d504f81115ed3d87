// Starts a real local Redis Cluster: three masters on free loopback ports, each in its own temp dir,
// joined with `redis-cli --cluster create`, ready once every node reports cluster_state:ok.
// Fails loudly (never skips) when redis-server or redis-cli is missing.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { waitForRedis } from './redis-server.js';

const run = promisify(execFile);

export const CLUSTER_MASTERS = 3;
/** Node start plus slot assignment plus gossip settle in about 2 s here; leave room for a busy CI. */
const CLUSTER_READY_TIMEOUT_MS = 30_000;

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
    await Promise.all(
      ports.map((p) => waitForRedis(p, async (c) => (await c.ping()) === 'PONG', CLUSTER_READY_TIMEOUT_MS)),
    );
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await Promise.all(
      ports.map((p) =>
        waitForRedis(
          p,
          async (c) => /cluster_state:ok/.test(await c.cluster('INFO')),
          CLUSTER_READY_TIMEOUT_MS,
        ),
      ),
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

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}
