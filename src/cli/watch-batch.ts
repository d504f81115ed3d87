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
  for (;;) {
    const s = await readBatchStatus(ctx, batchId);
    if (!s) throw new Error(`batch ${batchId} not found`);
    const done = s.completed + s.partial + s.failed + s.cancelled;
    const payload = { failed: s.failed, inFlight: s.inFlight, queued: s.queued, cost: s.cost.toFixed(2) };
    if (bar && !started) {
      bar.start(s.total, done, payload);
      started = true;
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
