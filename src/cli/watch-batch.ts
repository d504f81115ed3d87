// Follows a batch to its end, drawing a progress bar on a terminal (or quiet lines otherwise).
import { SingleBar } from 'cli-progress';
import { type BatchStatus, readBatchStatus, type StatusContext } from '../status/read-status.js';

const POLL_MS = 500;

export async function watchBatch(
  ctx: StatusContext,
  batchId: string,
  opts: { progress: boolean; signal?: AbortSignal },
): Promise<BatchStatus> {
  const bar = opts.progress
    ? new SingleBar({
        format:
          ' {bar} {percentage}% | {value}/{total} done | failed {failed} | in flight {inFlight} | queued {queued} | ${cost}',
        hideCursor: true,
        stream: process.stderr,
      })
    : undefined;
  let started = false;
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
    return await follow(ctx, batchId, opts, bar, () => {
      started = true;
    });
  } finally {
    process.off('exit', stopBar);
    process.off('SIGINT', interrupt);
  }
}

async function follow(
  ctx: StatusContext,
  batchId: string,
  opts: { signal?: AbortSignal },
  bar: SingleBar | undefined,
  onStart: () => void,
): Promise<BatchStatus> {
  let started = false;
  for (;;) {
    const s = await readBatchStatus(ctx, batchId);
    if (!s) throw new Error(`batch ${batchId} not found`);
    const done = s.completed + s.failed + s.cancelled;
    const payload = { failed: s.failed, inFlight: s.inFlight, queued: s.queued, cost: s.cost.toFixed(2) };
    if (bar && !started) {
      bar.start(s.total, done, payload);
      started = true;
      onStart();
    } else bar?.update(done, payload);
    bar?.setTotal(s.total);
    if (s.state !== 'running' && s.state !== 'enqueuing') {
      bar?.stop();
      return s;
    }
    if (opts.signal?.aborted) {
      bar?.stop();
      return s;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
