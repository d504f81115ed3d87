// Builds the BullMQ Worker for the task queue. Concurrency bounds only the short submit/store steps;
// waiting for the provider happens in the delayed set, so in-flight tasks are not limited by it.
import { Worker, type WorkerOptions } from 'bullmq';
import type { TaskJobData, TaskJobResult } from '../tasks/job-data.js';
import { submitBackoffDelay } from '../tasks/job-options.js';
import { bullPrefix } from '../tasks/keys.js';
import type { RedisClient } from '../tasks/task-store.js';
import { releasingSlots, startAdmissionSweeper } from './admission-gate.js';
import { createProcessor } from './process-task.js';
import type { WorkerDeps } from './worker-deps.js';

/** Our steps are idempotent, so a job stalled by a crashed worker is always safe to run again. */
const MAX_STALLED_COUNT = 1000;

export interface TaskWorkerOptions {
  /** Lock duration (default LOCK_DURATION_MS); a crashed worker's jobs resume after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  autorun?: boolean;
}

export function createTaskWorker(
  deps: WorkerDeps,
  connection: RedisClient,
  opts: TaskWorkerOptions = {},
): Worker<TaskJobData, TaskJobResult> {
  const cfg = deps.config;
  const options: WorkerOptions = {
    connection,
    prefix: bullPrefix(cfg.QUEUE_PREFIX),
    concurrency: cfg.WORKER_CONCURRENCY,
    maxStalledCount: MAX_STALLED_COUNT,
    // Only our own job type reaches it (BullMQ's built-ins are looked up first).
    settings: { backoffStrategy: (attemptsMade: number) => submitBackoffDelay(attemptsMade) },
    autorun: opts.autorun ?? true,
    // Short locks are safe: no job is held while the provider renders (README "Crash recovery").
    lockDuration: opts.lockDurationMs ?? cfg.LOCK_DURATION_MS,
    stalledInterval: opts.stalledIntervalMs ?? cfg.STALLED_INTERVAL_MS,
    ...(cfg.SUBMIT_RATE_MAX
      ? { limiter: { max: cfg.SUBMIT_RATE_MAX, duration: cfg.SUBMIT_RATE_DURATION_MS } }
      : {}),
  };
  let worker: Worker<TaskJobData, TaskJobResult> | undefined;
  const processor = createProcessor(deps, {
    async rateLimit(ms) {
      await worker?.rateLimit(ms);
      return Worker.RateLimitError();
    },
    async pause(reason) {
      await deps.queue.pause();
      await deps.tasks.setQueuePausedReason(reason);
      await worker?.rateLimit(cfg.RATE_LIMIT_BACKOFF_MS);
      return Worker.RateLimitError();
    },
  });
  // Fair share: a settled job gives its slot back (admission-gate.ts).
  worker = new Worker<TaskJobData, TaskJobResult>(cfg.QUEUE_NAME, releasingSlots(deps, processor), options);
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));
  worker.on('closed', startAdmissionSweeper(deps));
  return worker;
}
