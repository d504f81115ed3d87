// One `npm start` per data dir: a pid file created exclusively. A file left by a run that was killed
// (SIGKILL, power loss) names a process that no longer exists, and is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { RelayError } from '../errors.js';

export const LOCK_FILE = 'demo.pid';

export class DataDirLockedError extends RelayError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super('DATA_DIR_LOCKED', `another kontext-relay demo (pid ${pid}) is using ${dataDir}; stop it first`);
  }
}

export interface DataDirLock {
  release(): void;
}

/** Locks this process holds, so taking one twice (main's early check, then the command) is one lock. */
const held = new Map<string, DataDirLock>();

export function lockDataDir(dataDir: string): DataDirLock {
  const file = resolve(dataDir, LOCK_FILE);
  const mine = held.get(file);
  if (mine) return mine;
  mkdirSync(dataDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readPid(file);
      const held = holder !== undefined && holder !== process.pid && alive(holder);
      // A second EEXIST: another start took the stale lock over between our two tries.
      if (held || attempt > 0) throw new DataDirLockedError(dataDir, holder ?? 0);
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  const release = () => {
    if (!held.delete(file)) return;
    process.off('exit', release);
    if (readPid(file) === process.pid) rmSync(file, { force: true });
  };
  process.once('exit', release);
  const lock = { release };
  held.set(file, lock);
  return lock;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
