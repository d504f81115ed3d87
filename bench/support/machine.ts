// The machine a run measured, for the results section: CPUs, memory, Node, redis-server, OS, and how
// busy the host was (load average), since every figure depends on it.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpus: string;
  memory: string;
  node: string;
  redis: string;
  os: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(', ');
  const mhz = cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : '';
  return {
    cpus: `${cpus.length} × ${models}${mhz}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    redis: redisServerVersion(),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
  };
}

function redisServerVersion(): string {
  try {
    const out = execFileSync('redis-server', ['--version']).toString();
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return 'not found';
  }
}

/** The 1-minute load average now. */
export function loadAverage(): number {
  return os.loadavg()[0] ?? Number.NaN;
}
