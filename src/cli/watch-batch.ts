// Follows a batch to its end, drawing a progress bar on a terminal. Rides out a Redis restart: a poll
// that finds Redis unreachable is retried (ioredis reconnects) until the batch ends or the deadline.
// Outcomes: ended (with its status), unknown (no such batch, or Redis lost it), gave up (deadline).
import { SingleBar } from 'cli-progress';
import { type BatchStatus, readBatchStatus, type StatusContext } from '../status/read-status.js';
import { isRedisUnavailable } from '../tasks/redis-unavailable.js';

const POLL_MS = 500;

export type WatchOutcome =
  | { kind: 'ended'; status: BatchStatus }
  | { kind: 'unknown'; batchId: string }
  | { kind: 'gave-up'; why: 'timeout' | 'redis-unreachable'; last: BatchStatus | undefined };

export interface WatchOptions {
  progress: boolean;
  signal?: AbortSignal;
  /** Give up after this long (Redis outages included). Unset: wait as long as the batch runs. */
  timeoutMs?: number;
}

export async function followBatch(
  ctx: StatusContext,
  batchId: string,
  opts: WatchOptions,
): Promise<WatchOutcome> {
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  const bar = opts.progress ? progressBar() : undefined;
  let started = false;
  let last: BatchStatus | undefined;
  // However the process ends (Ctrl-C included), the bar ends its line and shows the cursor again.
  const stopBar = () => {
    if (started) bar?.stop();
  };
  const interrupt = () => process.exit(130);
  if (bar) {
    process.once('exit', stopBar);
    // Without a handler of the caller's, Ctrl-C would end the process before 'exit' listeners run.
    if (process.listenerCount('SIGINT') === 0) process.once('SIGINT', interrupt);
  }
  try {
    for (;;) {
      let s: BatchStatus | null;
      try {
        s = await readBatchStatus(ctx, batchId);
      } catch (e) {
        // The connection's owner reports the outage (open-context.ts); here we only keep polling.
        if (!isRedisUnavailable(e)) throw e;
        if (Date.now() >= deadline) return { kind: 'gave-up', why: 'redis-unreachable', last };
        await sleep(POLL_MS);
        continue;
      }
      if (!s) return { kind: 'unknown', batchId };
      last = s;
      const done = s.completed + s.partial + s.failed + s.cancelled;
      const payload = { failed: s.failed, inFlight: s.inFlight, queued: s.queued, cost: s.cost.toFixed(2) };
      if (bar && !started) {
        bar.start(s.total, done, payload);
        started = true;
      } else bar?.update(done, payload);
      bar?.setTotal(s.total);
      if (s.state !== 'running' && s.state !== 'enqueuing') return { kind: 'ended', status: s };
      if (opts.signal?.aborted || Date.now() >= deadline) return { kind: 'gave-up', why: 'timeout', last };
      await sleep(POLL_MS);
    }
  } finally {
    bar?.stop();
    process.off('exit', stopBar);
    process.off('SIGINT', interrupt);
  }
}

/** The demo's watch: the batch it just enqueued, to its end. */
export async function watchBatch(
  ctx: StatusContext,
  batchId: string,
  opts: WatchOptions,
): Promise<BatchStatus> {
  const out = await followBatch(ctx, batchId, opts);
  if (out.kind === 'ended') return out.status;
  if (out.kind === 'unknown') throw new Error(`batch ${batchId} not found`);
  if (out.last) return out.last;
  throw new Error(`gave up waiting for batch ${batchId} (${out.why})`);
}

function progressBar(): SingleBar {
  return new SingleBar({
    format:
      // '$' is the currency sign before cli-progress's {cost} token, not a template placeholder.
      ' {bar} {percentage}% | {value}/{total} done | failed {failed} | in flight {inFlight} | queued {queued} | $' +
      '{cost}',
    hideCursor: true,
    stream: process.stderr,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
