// The fetch/store retry schedule: doubling from the base, capped, half of each delay random.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/worker/retry-backoff.js';

const policy = { baseMs: 1000, maxMs: 60_000 };

describe('backoffDelay', () => {
  it('doubles from the base after each failure and stops at the cap', () => {
    const top = (n: number) => backoffDelay(n, policy, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(top(1_000)).toBe(60_000);
  });

  it('keeps half of each delay fixed and jitters the other half', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, policy);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });
});
