// Job options for a task: its id is the taskUUID (so enqueueing twice is a no-op), transient submit
// failures retry with exponential backoff and jitter, and finished jobs are kept for inspection.
import type { JobsOptions } from 'bullmq';

export const SUBMIT_BACKOFF_MS = 1000;
export const SUBMIT_BACKOFF_JITTER = 0.5;
export const KEEP_COMPLETED_SEC = 7 * 24 * 3600;
export const KEEP_FAILED_SEC = 30 * 24 * 3600;

export function taskJobOptions(taskUUID: string, attempts: number): JobsOptions {
  return {
    jobId: taskUUID,
    attempts,
    backoff: { type: 'exponential', delay: SUBMIT_BACKOFF_MS, jitter: SUBMIT_BACKOFF_JITTER },
    removeOnComplete: { age: KEEP_COMPLETED_SEC },
    removeOnFail: { age: KEEP_FAILED_SEC },
  };
}
