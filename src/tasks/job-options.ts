// Job options for a task: its id is the taskUUID (so enqueueing twice is a no-op), transient submit
// failures retry with exponential backoff and jitter, and finished jobs are kept for inspection.
import type { JobsOptions } from 'bullmq';

export const SUBMIT_BACKOFF_MS = 1000;
export const SUBMIT_BACKOFF_JITTER = 0.5;
/**
 * The longest wait between two submit attempts. Uncapped doubling made the 8th attempt wait ~2 minutes,
 * so one unlucky task held its batch open long after the provider had recovered.
 */
export const SUBMIT_BACKOFF_MAX_MS = 8000;
/** Name of our backoff strategy (the worker's settings.backoffStrategy computes it). */
export const SUBMIT_BACKOFF_TYPE = 'kr-capped-exponential';
export const KEEP_COMPLETED_SEC = 7 * 24 * 3600;
export const KEEP_FAILED_SEC = 30 * 24 * 3600;

/**
 * Priority lanes (issue 6). 'interactive' jobs carry no priority, so they sit in BullMQ's plain wait
 * list, which a worker always drains before the prioritized set where 'bulk' jobs wait: a large batch
 * cannot starve a single task. BullMQ keeps a job's priority through our step-job lifecycle
 * (moveToDelayed → promote, delayed → due, retry, rate-limit push-back), so a woken bulk job also
 * yields to woken interactive ones. Within a lane, order is first in, first out. (A job whose worker
 * crashed goes back through BullMQ's stalled check to the wait list once, ahead of both lanes.)
 */
export type Lane = 'interactive' | 'bulk';
export const LANES: readonly Lane[] = ['interactive', 'bulk'];
/** BullMQ priority of the bulk lane: any value > 0 ranks below unprioritized jobs; 1..9 stay free for lanes between. */
export const BULK_PRIORITY = 10;
/**
 * A bulk task the provider has accepted moves up to this priority when it first parks, so its results
 * are stored ahead of fresh bulk submissions. Without it, a woken job (promote, or a poll falling due)
 * queues behind every task of a large batch still waiting to be submitted: measured in BENCHMARKS.md,
 * §2 (mean time in flight 39 s → 10 s at 6,000 tasks with a 5 s provider).
 */
export const RESULT_PRIORITY = 5;

export function taskJobOptions(taskUUID: string, attempts: number, lane: Lane = 'interactive'): JobsOptions {
  return {
    jobId: taskUUID,
    attempts,
    // Lane → BullMQ priority; see Lane above.
    ...(lane === 'bulk' ? { priority: BULK_PRIORITY } : {}),
    backoff: { type: SUBMIT_BACKOFF_TYPE, delay: SUBMIT_BACKOFF_MS, jitter: SUBMIT_BACKOFF_JITTER },
    removeOnComplete: { age: KEEP_COMPLETED_SEC },
    removeOnFail: { age: KEEP_FAILED_SEC },
  };
}

/**
 * Exponential backoff with jitter, capped at SUBMIT_BACKOFF_MAX_MS: attempt n waits a random time in
 * [(1 − jitter)·d, d] with d = min(max, base·2^(n−1)). Jobs enqueued before this strategy existed keep
 * BullMQ's built-in 'exponential' type and never reach it.
 */
export function submitBackoffDelay(attemptsMade: number, random: () => number = Math.random): number {
  const d = Math.min(SUBMIT_BACKOFF_MAX_MS, SUBMIT_BACKOFF_MS * 2 ** Math.max(0, attemptsMade - 1));
  return Math.floor(d * (1 - SUBMIT_BACKOFF_JITTER * random()));
}
