// When a failed event webhook is tried again: exponential from RETRY_INITIAL_DELAY_MS, doubling up to
// RETRY_MAX_DELAY_MS, for at most RETRY_MAX_AGE_MS after the first attempt; then it is given up.
export const RETRY_INITIAL_DELAY_MS = 5_000;
export const RETRY_MAX_DELAY_MS = 60 * 60_000;
export const RETRY_MAX_AGE_MS = 24 * 60 * 60_000;

export interface RetrySchedule {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAgeMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = Object.freeze({
  initialDelayMs: RETRY_INITIAL_DELAY_MS,
  maxDelayMs: RETRY_MAX_DELAY_MS,
  maxAgeMs: RETRY_MAX_AGE_MS,
});

/** Delay before the next attempt after `failedAttempts` (≥ 1) failures. */
export function retryDelayMs(failedAttempts: number, s: RetrySchedule = DEFAULT_RETRY_SCHEDULE): number {
  const exp = Math.max(0, failedAttempts - 1);
  // Stop doubling once past the cap (2^exp would overflow to Infinity long after it matters).
  return Math.min(s.maxDelayMs, s.initialDelayMs * 2 ** Math.min(exp, 52));
}

/** Whether an attempt at `nextAt` still falls inside the retry window that began at `firstAt`. */
export function withinRetryWindow(
  firstAt: number,
  nextAt: number,
  s: RetrySchedule = DEFAULT_RETRY_SCHEDULE,
) {
  return nextAt - firstAt <= s.maxAgeMs;
}
