// `kontext-relay serve --role …` as real child processes sharing one queue, for scale-out tests.
// Each keeps its pino JSON log in memory, so a test can count what that process did.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
/** tsx compiles on first start; several cold starts at once on a busy 2-core box are slow. */
const READY_TIMEOUT_MS = 45_000;
const POLL_MS = 50;
/** A clean stop (SIGTERM) that takes longer than this ends with SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** The line `serve` logs once its roles run. */
const SERVING_MSG = 'kontext-relay serving';

/** Every live child, so a test run that dies never leaves processes behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ServeProcess {
  readonly name: string;
  /** Base URL of its HTTP server (webhook role). */
  readonly url: string | undefined;
  /** Every JSON log line so far, parsed; other lines (warnings) are skipped. */
  logs(): Record<string, unknown>[];
  /** The raw output, for failure messages. */
  output(): string;
  /** SIGTERM (finish active steps, close connections), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Starts `serve --role <role>` with `env` as its whole configuration; resolves once it serves. */
export async function startServeProcess(opts: {
  name: string;
  role: 'worker' | 'webhook';
  env: Record<string, string>;
}): Promise<ServeProcess> {
  const { env } = opts;
  const url = opts.role === 'webhook' ? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT}` : undefined;
  const child = spawn(process.execPath, [...CLI, 'serve', '--role', opts.role], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const proc: ServeProcess = {
    name: opts.name,
    url,
    logs: () => parseJsonLines(out),
    output: () => out,
    stop: () => stop(child),
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!proc.logs().some((l) => l.msg === SERVING_MSG) || (url && !(await healthy(url)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`${opts.name} did not start serving:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return proc;
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a line cut mid-write; complete on the next read */
    }
  }
  return lines;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
