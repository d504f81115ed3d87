// kontext-relay roles and the simulator as REAL child processes (`node --import tsx src/cli/main.ts …`),
// for tests that SIGKILL them. Every process keeps its port across restarts and its output in memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultRates, GeneratedResult, Latency, SimulatorStats } from '../../src/simulator/index.js';
import { freePort } from './free-port.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
/** tsx compiles on first start; two cold starts on a busy 2-core box can take this long. */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 50;
/** A graceful stop that takes longer than this ends with SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Output kept per process (all incarnations); older text is dropped first. */
const MAX_OUTPUT_CHARS = 8 * 1024 * 1024;
/** What `tail()` shows when a test fails. */
const DEFAULT_TAIL_CHARS = 6_000;
/** The line `serve` logs once its roles run (pino JSON at LOG_LEVEL=info). */
const SERVING_MARK = '"msg":"kontext-relay serving"';
const SIM_LISTENING = /simulator listening: (\S+)/;

/** Every live child, so a crashed test run never leaves processes behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** How many times it was started. */
  readonly starts: number;
  start(): Promise<void>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** SIGKILL, then start again with the same command, environment and port. */
  restart(): Promise<void>;
  /** SIGTERM (clean shutdown), SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** stdout and stderr of every incarnation, interleaved as they arrived. */
  output(): string;
  tail(chars?: number): string;
  /** Occurrences of `text` in the kept output. */
  count(text: string): number;
}

interface Spec {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Resolves once the freshly started process is ready; `fresh()` is its output since this start. */
  ready: (p: ManagedProcess, fresh: () => string) => Promise<void>;
}

function managed(spec: Spec): ManagedProcess {
  let child: ChildProcess | undefined;
  let out = '';
  let dropped = 0;
  let starts = 0;
  const append = (s: string) => {
    out += s;
    if (out.length > MAX_OUTPUT_CHARS) {
      const cut = out.length - MAX_OUTPUT_CHARS / 2;
      dropped += cut;
      out = out.slice(cut);
    }
  };
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const waitExit = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve();
      else c.once('exit', () => resolve());
    });

  const self: ManagedProcess = {
    name: spec.name,
    get pid() {
      return child?.pid;
    },
    get running() {
      return alive();
    },
    get starts() {
      return starts;
    },
    async start() {
      if (alive()) throw new Error(`${spec.name} is already running`);
      starts++;
      append(`\n----- ${spec.name} start #${starts} -----\n`);
      const since = dropped + out.length;
      const c = spawn(process.execPath, [...CLI, ...spec.args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      live.add(c);
      c.stdout?.setEncoding('utf8').on('data', append);
      c.stderr?.setEncoding('utf8').on('data', append);
      c.once('exit', (code, signal) => {
        live.delete(c);
        append(`\n----- ${spec.name} exited (code ${code}, signal ${signal}) -----\n`);
      });
      try {
        await spec.ready(self, () => out.slice(Math.max(0, since - dropped)));
      } catch (e) {
        throw new Error(`${spec.name} did not become ready: ${(e as Error).message}\n${self.tail()}`);
      }
    },
    async kill() {
      const c = child;
      if (!c || !alive()) return;
      c.kill('SIGKILL');
      await waitExit(c);
    },
    async restart() {
      await self.kill();
      await self.start();
    },
    async stop() {
      const c = child;
      if (!c || !alive()) return;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
      await waitExit(c);
      clearTimeout(timer);
    },
    output: () => out,
    tail: (chars = DEFAULT_TAIL_CHARS) => out.slice(-chars),
    count(text) {
      let n = 0;
      for (let i = out.indexOf(text); i >= 0; i = out.indexOf(text, i + text.length)) n++;
      return n;
    },
  };
  return self;
}

/** Poll `check` until it returns a value (not undefined), the process dies, or the deadline passes. */
async function readyWhen<T>(
  p: ManagedProcess,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (!p.running) throw new Error('exited before it was ready');
    if (Date.now() > deadline) throw new Error(`not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

// ---------------------------------------------------------------------------------------------- relay

export type RelayRole = 'worker' | 'webhook' | 'all';

export interface RelayProcess extends ManagedProcess {
  readonly role: RelayRole;
  /** Base URL of its HTTP server (webhook/all roles): fixed across restarts. */
  readonly url: string | undefined;
}

/**
 * `serve --role <role> --lock-ms <ms>` with the given environment (the relay's whole config). A
 * webhook/all role listens on env PORT, which must be a fixed port so PUBLIC_URL stays valid.
 */
export async function startRelayRole(opts: {
  role: RelayRole;
  env: Record<string, string>;
  /** `--lock-ms` (default 3000); 'config' passes none, so LOCK_DURATION_MS / STALLED_INTERVAL_MS apply. */
  lockMs?: number | 'config';
  name?: string;
}): Promise<RelayProcess> {
  const { role, env } = opts;
  const http = role !== 'worker';
  if (http && (!env.PORT || env.PORT === '0')) throw new Error('a webhook role needs a fixed PORT');
  const url = http ? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT}` : undefined;
  const p = managed({
    name: opts.name ?? role,
    args: [
      'serve',
      '--role',
      role,
      ...(opts.lockMs === 'config' ? [] : ['--lock-ms', String(opts.lockMs ?? 3000)]),
    ],
    env: { LOG_LEVEL: 'info', ...env },
    async ready(self, fresh) {
      await readyWhen(self, () => (fresh().includes(SERVING_MARK) ? true : undefined));
      if (url) await readyWhen(self, () => healthy(url));
    },
  });
  const rp = Object.assign(p, { role, url }) as RelayProcess;
  await rp.start();
  return rp;
}

async function healthy(url: string): Promise<true | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? true : undefined;
  } catch {
    return undefined;
  }
}

export interface RelayEnvOptions {
  redisUrl: string;
  s3Endpoint: string;
  /** The simulator's POST /v1 URL. */
  providerUrl: string;
  webhookPort: number;
  queuePrefix: string;
  bucket: string;
  secret: string;
  /** Anything else (FIRST_POLL_AFTER_MS, DELIVERY_MODE, …); wins over the defaults here. */
  extra?: Record<string, string>;
}

/** The environment every role of one relay shares: test-friendly timings, results only from the simulator. */
export function relayEnv(o: RelayEnvOptions): Record<string, string> {
  const provider = new URL(o.providerUrl);
  return {
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.queuePrefix,
    S3_ENDPOINT: o.s3Endpoint,
    S3_BUCKET: o.bucket,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    WEBHOOK_SECRET: o.secret,
    RUNWARE_API_URL: o.providerUrl,
    RUNWARE_API_KEY: 'test-key',
    FETCH_ALLOWED_HOSTS: provider.host,
    HOST: '127.0.0.1',
    PORT: String(o.webhookPort),
    PUBLIC_URL: `http://127.0.0.1:${o.webhookPort}`,
    FIRST_POLL_AFTER_MS: '3000',
    MAX_POLL_INTERVAL_MS: '4000',
    RESULT_DEADLINE_MS: '180000',
    UPLOAD_CONFIRM_TIMEOUT_MS: '3000',
    RATE_LIMIT_BACKOFF_MS: '300',
    PROVIDER_TIMEOUT_MS: '10000',
    FETCH_TIMEOUT_MS: '10000',
    WORKER_CONCURRENCY: '16',
    LOG_LEVEL: 'info',
    // Test Redis servers run without persistence unless a test asks for AOF.
    ALLOW_EPHEMERAL_REDIS: 'true',
    ...o.extra,
  };
}

// ------------------------------------------------------------------------------------------ simulator

export interface SimulatorAdmin {
  stats(): Promise<SimulatorStats>;
  results(): Promise<GeneratedResult[]>;
  setFaults(f: Partial<FaultRates> & { latency?: Latency }): Promise<void>;
  /** Resolves once every item is generated and every webhook/upload finished or was given up. */
  idle(): Promise<void>;
}

export interface SimulatorProcess extends ManagedProcess {
  /** POST /v1 */
  readonly url: string;
  readonly baseUrl: string;
  readonly port: number;
  readonly admin: SimulatorAdmin;
}

/** The simulator CLI on a fixed free port (state lives in the process: a restart forgets every task). */
export async function startSimulatorProcess(
  opts: { port?: number; latency?: Latency; faults?: Partial<FaultRates>; apiKey?: string } = {},
): Promise<SimulatorProcess> {
  const port = opts.port ?? (await freePort());
  const args = ['simulator', '--port', String(port)];
  if (opts.latency) args.push('--latency', `${opts.latency.minMs}-${opts.latency.maxMs}`);
  if (opts.apiKey) args.push('--api-key', opts.apiKey);
  const faults = Object.entries(opts.faults ?? {}).map(([k, v]) => `${k}=${v}`);
  if (faults.length > 0) args.push('--fault', ...faults);
  const baseUrl = `http://127.0.0.1:${port}`;
  const p = managed({
    name: 'simulator',
    args,
    env: {},
    async ready(self, fresh) {
      const url = await readyWhen(self, () => SIM_LISTENING.exec(fresh())?.[1]);
      if (url !== `${baseUrl}/v1`) throw new Error(`simulator listens on ${url}, expected ${baseUrl}/v1`);
    },
  });
  const sp = Object.assign(p, { url: `${baseUrl}/v1`, baseUrl, port, admin: simulatorAdmin(baseUrl) });
  await sp.start();
  return sp;
}

/** The simulator's /__sim routes, for a simulator in another process. */
export function simulatorAdmin(baseUrl: string): SimulatorAdmin {
  const call = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${baseUrl}/__sim/${path}`, init);
    if (!res.ok) throw new Error(`simulator ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    stats: () => call<SimulatorStats>('stats'),
    results: () => call<GeneratedResult[]>('results'),
    async setFaults(f) {
      await call('faults', { method: 'POST', body: JSON.stringify(f) });
    },
    async idle() {
      await call('idle', { method: 'POST' });
    },
  };
}

// ---------------------------------------------------------------------------------------------- misc

/** Stop every given process (clean shutdown first); never throws. */
export async function stopAll(...procs: (ManagedProcess | undefined)[]): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop().catch(() => undefined)));
}

/** The last output of each process, for a failed test's report. */
export function describeOutputs(procs: readonly (ManagedProcess | undefined)[], chars?: number): string {
  return procs
    .filter((p): p is ManagedProcess => p !== undefined)
    .map((p) => `===== ${p.name} (pid ${p.pid ?? '-'}, ${p.starts} start(s)) =====\n${p.tail(chars)}`)
    .join('\n');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one short-lived CLI command (e.g. `enqueue`) to its end; config comes from `env`. */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...CLI, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(c);
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? READY_TIMEOUT_MS);
    c.once('error', reject);
    c.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(c);
      resolve({ code, stdout, stderr });
    });
    c.stdin.end(opts.stdin ?? '');
  });
}
