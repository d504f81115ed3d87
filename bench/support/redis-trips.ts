// Reads the counters redis-trips-preload.ts keeps in a relay child: SIGUSR2 makes the child write its
// commands and round trips since the last signal to <dir>/<pid>.json (and start counting afresh).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from './wait-for.js';

export interface Trips {
  commands: number;
  roundTrips: number;
  byCommand: Record<string, number>;
}

const DUMP_TIMEOUT_MS = 10_000;

/** Node flags that load the counting preload into a child (after tsx, which compiles it). */
export function tripsNodeArgs(): string[] {
  return ['--import', pathToFileURL(join(import.meta.dirname, 'redis-trips-preload.ts')).href];
}

/** The child's counts since the last call (or its start), and a fresh count from now on. */
export async function takeTrips(dir: string, pid: number): Promise<Trips> {
  const file = join(dir, `${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const text = await waitFor(
    `redis counts from ${pid}`,
    async () => (existsSync(file) ? readFileSync(file, 'utf8') : null),
    { timeoutMs: DUMP_TIMEOUT_MS, everyMs: 10 },
  );
  return JSON.parse(text) as Trips;
}
