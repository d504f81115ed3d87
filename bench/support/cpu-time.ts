// CPU time spent by each process of a run (this one, and children by pid from /proc), so a figure can
// say where the machine's cores went per task — a measure far steadier than wall time on a busy host.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the ")" that ends the name. */
const UTIME_FIELD = 11;
const STIME_FIELD = 12;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system CPU time of a process so far, ms; this process when pid is undefined. */
export function cpuMs(pid?: number): number {
  if (pid === undefined || pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[UTIME_FIELD]) + Number(fields[STIME_FIELD])) / CLOCK_TICKS) * 1000;
}

/** Named processes to account; `stop()` returns each one's CPU ms since `start`. */
export function cpuMeter(pids: Record<string, number | undefined>): { stop(): Record<string, number> } {
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  return {
    stop() {
      return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) - start[k]!]));
    },
  };
}

/** Peak resident set of a live process (VmHWM in /proc/<pid>/status), MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Current resident set of a live process (VmRSS), MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}
