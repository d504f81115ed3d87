// PUTs a result's raw bytes to the task's uploadEndpoint with the image's content type (§7).
// A non-2xx or network failure is retried twice; after that the upload counts as failed.
import { type Agent, request } from 'undici';
import type { Random } from './random.js';
import type { SimulatorStats } from './stats.js';
import type { WorkTracker } from './work-tracker.js';

export const UPLOAD_ATTEMPTS = 3;
export const UPLOAD_RETRY_DELAY_MS = 250;
export const UPLOAD_TIMEOUT_MS = 30_000;
/** The slowUpload fault holds the PUT back by this much, uniformly. */
export const SLOW_UPLOAD_MIN_MS = 1_000;
export const SLOW_UPLOAD_MAX_MS = 3_000;

export interface UploaderDeps {
  agent: Agent;
  tracker: WorkTracker;
  random: Random;
  stats: SimulatorStats;
}

export class Uploader {
  constructor(private readonly deps: UploaderDeps) {}

  /** True once a PUT got a 2xx. `slow` delays it; `fail` skips it, as if every attempt failed. */
  async upload(
    url: string,
    bytes: Buffer,
    contentType: string,
    fault: { slow: boolean; fail: boolean },
  ): Promise<boolean> {
    const { stats, tracker, random } = this.deps;
    if (fault.fail) {
      stats.uploadsFailed++;
      return false;
    }
    if (fault.slow) await tracker.sleep(random.int(SLOW_UPLOAD_MIN_MS, SLOW_UPLOAD_MAX_MS));
    for (let attempt = 1; attempt <= UPLOAD_ATTEMPTS; attempt++) {
      if (attempt > 1) await tracker.sleep(UPLOAD_RETRY_DELAY_MS * 2 ** (attempt - 2));
      if (await this.put(url, bytes, contentType)) {
        stats.uploads++;
        return true;
      }
    }
    stats.uploadsFailed++;
    return false;
  }

  private async put(url: string, bytes: Buffer, contentType: string): Promise<boolean> {
    const { agent, tracker } = this.deps;
    if (tracker.closed) throw new Error('simulator closed');
    try {
      const res = await request(url, {
        method: 'PUT',
        headers: { 'content-type': contentType, 'content-length': String(bytes.length) },
        body: bytes,
        dispatcher: agent,
        signal: AbortSignal.any([tracker.signal, AbortSignal.timeout(UPLOAD_TIMEOUT_MS)]),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      if (tracker.closed) throw new Error('simulator closed');
      return false;
    }
  }
}
