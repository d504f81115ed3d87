// Sporadic 503s are a task's problem; a burst of them is the provider's, and slows the whole queue.
import { describe, expect, it } from 'vitest';
import {
  OVERLOAD_THRESHOLD,
  OVERLOAD_WINDOW_MS,
  OverloadDetector,
} from '../../src/worker/provider-overload.js';

describe('OverloadDetector', () => {
  it('calls the THRESHOLD-th 503 within the window a burst, not the ones before it', () => {
    const d = new OverloadDetector();
    const t0 = 1_000_000;
    for (let i = 0; i < OVERLOAD_THRESHOLD - 1; i++) expect(d.record(t0 + i)).toBe(false);
    expect(d.record(t0 + OVERLOAD_THRESHOLD)).toBe(true);
  });

  it('forgets 503s older than the window', () => {
    const d = new OverloadDetector(3, 1000);
    expect(d.record(0)).toBe(false);
    expect(d.record(500)).toBe(false);
    expect(d.record(1000)).toBe(false); // the one at 0 is out of the window now
    expect(d.record(1200)).toBe(true);
    expect(d.record(5000)).toBe(false);
    expect(OVERLOAD_WINDOW_MS).toBeGreaterThan(0);
  });
});
