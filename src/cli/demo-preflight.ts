// `demo` takes its data dir's lock before the rest of the CLI loads, so a second `npm start` on the same
// ./data refuses at once, in one line, having started nothing. `npm start` preloads this module with
// `--import`; main.ts imports it first too, for the installed bin (same module, same lock).
import { demoDataDir } from '../config/demo-state.js';
import { DataDirLockedError, lockDataDir } from '../embedded/data-dir-lock.js';

if (process.argv[2] === 'demo') {
  try {
    lockDataDir(demoDataDir());
  } catch (e) {
    if (!(e instanceof DataDirLockedError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
