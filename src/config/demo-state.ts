// What `npm start` records under DATA_DIR (demo.json) so a restart finds the same ports, and the CLI
// finds the demo's Redis: the simulator's port must not change (result URLs and the fetch allow-list
// name it), S3's and Redis's are kept for the same reason of least surprise.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export const DEMO_STATE_FILE = 'demo.json';

/** Where `npm start` keeps its data: DATA_DIR, default ./data, resolved against the working directory. */
export function demoDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DATA_DIR || './data');
}

const port = z.number().int().min(1).max(65535);
const demoStateSchema = z.object({
  redisUrl: z.string().url().optional(),
  redisPort: port.optional(),
  s3Port: port.optional(),
  simulatorPort: port.optional(),
  /** The demo batch of the last run: a restart resumes it while it is unfinished. */
  demoBatchId: z.string().optional(),
});

export type DemoState = z.output<typeof demoStateSchema>;

/** The recorded state, or {} when there is none (or it is unreadable: the demo then starts afresh). */
export function readDemoState(dataDir: string): DemoState {
  let text: string;
  try {
    text = readFileSync(resolve(dataDir, DEMO_STATE_FILE), 'utf8');
  } catch {
    return {};
  }
  try {
    const r = demoStateSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

/** Written whole and renamed into place, so a reader never sees half a file. */
export function writeDemoState(dataDir: string, state: DemoState): void {
  const file = resolve(dataDir, DEMO_STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
