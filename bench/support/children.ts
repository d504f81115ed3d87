// Child processes a benchmark starts (S3 server, simulator, relay roles, baseline servers): spawned
// with the same Node and tsx, ready once they print a line matching `ready`, always stopped by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** How long a child may take to print its ready line (tsx compiles on first start). */
const READY_TIMEOUT_MS = 30_000;
/** After SIGTERM, how long a child gets to shut down before SIGKILL. */
const STOP_GRACE_MS = 10_000;
const PROBE_EVERY_MS = 100;
const STDERR_LINES_KEPT = 50;

export interface Child {
  readonly pid: number;
  /** The first capture group of `ready` in the ready line (e.g. a URL), or the whole line. */
  readonly ready: string;
  stop(): Promise<void>;
}

/** Every live child, killed on exit even when the benchmark crashes. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Run `node --import tsx <args>` from the repo root with `env` added to this process's environment.
 * Ready when a stdout line matches `ready`, or (for quiet processes) when `probe` first answers true.
 */
export function spawnTsx(
  args: string[],
  opts: {
    env?: Record<string, string>;
    ready?: RegExp;
    probe?: () => Promise<boolean>;
    name: string;
    /** Node flags after tsx's (e.g. `--import` of a TypeScript preload). */
    nodeArgs?: string[];
  },
): Promise<Child> {
  // For profiling: BENCH_CHILD_NODE_ARGS adds Node flags (e.g. "--cpu-prof --trace-gc") to every child.
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...(opts.nodeArgs ?? []), ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  // For debugging a benchmark: BENCH_CHILD_LOG_DIR keeps every child's output in <dir>/<name>.log.
  const logDir = process.env.BENCH_CHILD_LOG_DIR;
  if (logDir) {
    const log = createWriteStream(join(logDir, `${opts.name.replaceAll(' ', '-')}-${proc.pid}.log`));
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
  }
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
  });
  const lines = createInterface({ input: proc.stdout! });
  return new Promise<Child>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => fail(`exited early (${code ?? signal})`);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${opts.name}: ${why}\n${stderr.join('\n')}`));
    };
    const succeed = (ready: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.off('exit', onExit);
      lines.removeAllListeners('line');
      lines.on('line', () => undefined); // keep draining stdout so the child never blocks on it
      resolve({ pid: proc.pid!, ready, stop: () => stop(proc) });
    };
    proc.once('exit', onExit);
    lines.on('line', (line) => {
      const m = opts.ready?.exec(line);
      if (m) succeed(m[1] ?? line);
    });
    if (opts.probe) {
      const probe = opts.probe;
      const poll = async () => {
        while (!settled) {
          if (await probe().catch(() => false)) return succeed('');
          await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
        }
      };
      void poll();
    }
  });
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
