// The --timeout option every waiting command shares, and how a wait's outcome is printed.
import { InvalidArgumentError } from 'commander';
import type { WatchOutcome } from './watch-batch.js';

export const TIMEOUT_HELP =
  'give up waiting after this many seconds, Redis outages included (exit 4); default: as long as the batch runs';

export function parseTimeoutSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** One line for a person. */
export function describeOutcome(batchId: string, out: WatchOutcome): string {
  if (out.kind === 'unknown') return `no batch ${batchId} (never enqueued, or Redis lost it)`;
  if (out.kind === 'gave-up') {
    const why = out.why === 'timeout' ? '--timeout passed' : 'Redis unreachable until --timeout passed';
    const last = out.last
      ? `; last seen: ${out.last.completed} completed, ${out.last.failed} failed, ${out.last.inFlight} in flight, ${out.last.queued} queued`
      : '';
    return `gave up waiting for batch ${batchId} (${why})${last}; the batch goes on`;
  }
  const s = out.status;
  return `batch ${s.batchId} ${s.state}: ${s.completed} completed, ${s.partial} partial, ${s.failed} failed, ${s.cancelled} cancelled, cost $${s.cost.toFixed(4)}`;
}

/** The JSON form: `wait` is ended | unknown | gave-up; `status` the final (or last seen) batch status. */
export function outcomeJson(out: WatchOutcome): Record<string, unknown> {
  if (out.kind === 'ended') return { wait: 'ended', status: out.status };
  if (out.kind === 'unknown') return { wait: 'unknown', status: null };
  return { wait: 'gave-up', why: out.why, status: out.last ?? null };
}
