// Submit retries back off exponentially with jitter, but never wait longer than SUBMIT_BACKOFF_MAX_MS.
import { describe, expect, it } from 'vitest';
import {
  SUBMIT_BACKOFF_JITTER,
  SUBMIT_BACKOFF_MAX_MS,
  SUBMIT_BACKOFF_MS,
  SUBMIT_BACKOFF_TYPE,
  submitBackoffDelay,
  taskJobOptions,
} from '../../src/tasks/job-options.js';

describe('submit backoff', () => {
  it('doubles from the base delay and stops doubling at the cap', () => {
    const top = (n: number) => submitBackoffDelay(n, () => 0);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000]);
    expect(SUBMIT_BACKOFF_MS).toBe(1000);
    expect(SUBMIT_BACKOFF_MAX_MS).toBe(8000);
  });

  it('jitter takes up to half of the delay off, never adds to it', () => {
    for (let n = 1; n <= 10; n++) {
      const d = Math.min(SUBMIT_BACKOFF_MAX_MS, SUBMIT_BACKOFF_MS * 2 ** (n - 1));
      expect(submitBackoffDelay(n, () => 0.999999)).toBeGreaterThanOrEqual(
        Math.floor(d * (1 - SUBMIT_BACKOFF_JITTER)),
      );
      expect(submitBackoffDelay(n, () => Math.random())).toBeLessThanOrEqual(d);
    }
  });

  it('task jobs use this strategy', () => {
    expect(taskJobOptions('t', 8).backoff).toMatchObject({ type: SUBMIT_BACKOFF_TYPE });
  });
});
