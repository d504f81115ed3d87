// The delay before the next try of a failed fetch or store: exponential from a base, capped, with
// "equal jitter" (half fixed, half random) so that many slots failing at once do not retry in step.

/** The share of each delay that is random. */
export const RETRY_JITTER = 0.5;

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Delay before try number `failures + 1`, after `failures` (≥ 1) failed tries. */
export function backoffDelay(failures: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(exp * (1 - RETRY_JITTER) + exp * RETRY_JITTER * random());
}
