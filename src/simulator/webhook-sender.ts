// POSTs one webhook body to the task's webhookURL until a 2xx, with Runware's schedule (shared
// contract §5.3): per-attempt timeout, 250 ms doubling to 8 s with ±20% jitter, capped attempts.
import { type Agent, request } from 'undici';
import type { WebhookOptions } from './options.js';
import type { Random } from './random.js';
import type { SimulatorStats } from './stats.js';
import type { WorkTracker } from './work-tracker.js';

export const RETRY_JITTER = 0.2;

export interface SenderDeps {
  agent: Agent;
  tracker: WorkTracker;
  random: Random;
  stats: SimulatorStats;
  options: Required<WebhookOptions>;
}

/** The wait before attempt `failed + 1`: base·2^(failed-1), capped, then jittered. */
export function retryDelay(failed: number, base: number, cap: number, random: Random): number {
  const raw = Math.min(base * 2 ** (failed - 1), cap);
  return Math.round(raw * (1 + RETRY_JITTER * (2 * random.next() - 1)));
}

export class WebhookSender {
  constructor(private readonly deps: SenderDeps) {}

  /**
   * Deliver `body`; true once a 2xx came back, false after the last attempt failed.
   * `afterFirstAttempt` runs once, when the first POST has been answered or has failed.
   */
  async deliver(url: string, body: string, afterFirstAttempt?: () => void): Promise<boolean> {
    const { stats, tracker, options, random } = this.deps;
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      if (attempt > 1) {
        stats.webhookRetries++;
        await tracker.sleep(retryDelay(attempt - 1, options.baseDelayMs, options.maxDelayMs, random));
      }
      stats.webhookAttempts++;
      const ok = await this.attempt(url, body);
      if (attempt === 1) afterFirstAttempt?.();
      if (ok) {
        stats.webhooksSent++;
        return true;
      }
    }
    stats.webhooksDropped++;
    return false;
  }

  private async attempt(url: string, body: string): Promise<boolean> {
    const { agent, tracker, options } = this.deps;
    if (tracker.closed) throw new Error('simulator closed');
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: agent,
        signal: AbortSignal.any([tracker.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      if (tracker.closed) throw new Error('simulator closed');
      return false; // refused, reset or timed out: all worth a retry
    }
  }
}
