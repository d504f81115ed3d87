// The latency sketch (log-scale buckets, quantiles, merge, prior) and the overdue rule built on it.
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketUpperMs,
  histogramFromHash,
  latencyClassOf,
  mergeHistograms,
  quantileMs,
  SKETCH_BUCKETS,
  SKETCH_RATIO,
  SKETCH_WEIGHT,
} from '../../src/tasks/latency-sketch.js';
import { nextPollDelay, overdueAfterMs, type PollParams, retryDelay } from '../../src/worker/poll-policy.js';

const params: PollParams = {
  minDelayMs: 3000,
  capMs: 60_000,
  maxIntervalMs: 300_000,
  overdueFactor: 2,
  retryMs: 1000,
  priorMs: 10_000,
};

/** A histogram of the given latencies, each one observation. */
function sketchOf(latencies: number[]): Map<number, number> {
  return mergeHistograms(...latencies.map((l) => new Map([[bucketOf(l), SKETCH_WEIGHT]])));
}

describe('latency sketch', () => {
  it('puts a latency in the bucket whose edges enclose it, within the bucket ratio', () => {
    for (const ms of [150, 999, 1500, 4321, 60_000]) {
      const b = bucketOf(ms);
      expect(bucketUpperMs(b)).toBeGreaterThan(ms);
      expect(bucketUpperMs(b) / SKETCH_RATIO).toBeLessThanOrEqual(ms);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1e12)).toBe(SKETCH_BUCKETS - 1);
  });

  it('reads quantiles conservatively: never below the true one, at most one bucket above', () => {
    const lat = Array.from({ length: 1000 }, (_, i) => 500 + i * 10); // 500 … 10 490 ms
    const h = sketchOf(lat);
    for (const [q, truth] of [
      [0.5, 5490],
      [0.95, 9990],
      [0.99, 10_390],
    ] as const) {
      const got = quantileMs(h, q) ?? 0;
      expect(got).toBeGreaterThanOrEqual(truth);
      expect(got).toBeLessThanOrEqual(truth * SKETCH_RATIO);
    }
    expect(quantileMs(new Map(), 0.5)).toBeNull();
  });

  it('merges bucket-wise, so two workers’ halves equal the whole', () => {
    const a = [800, 1200, 1500, 2000];
    const b = [900, 3000, 7000];
    expect(mergeHistograms(sketchOf(a), sketchOf(b))).toEqual(sketchOf([...a, ...b]));
  });

  it('parses the Redis hash, ignoring bookkeeping fields', () => {
    expect(histogramFromHash({ b3: '2000', b10: '500', _at: '17', webhook: '9' })).toEqual(
      new Map([
        [3, 2000],
        [10, 500],
      ]),
    );
  });

  it('classes tasks by model, megapixels and result count', () => {
    expect(latencyClassOf({ width: 1024, height: 1024 })).toBe('bfl:3@1|1mp|n1');
    expect(latencyClassOf({ model: 'bfl:3@1', width: 1248, height: 832, numberResults: 3 })).toBe(
      'bfl:3@1|1mp|n3',
    );
  });
});

describe('overdue rule', () => {
  const learned = sketchOf(Array.from({ length: 100 }, (_, i) => 1000 + i * 20)); // p95 ≈ 2.9 s

  it('before anything is learned, the prior decides (due about twice its p95 later)', () => {
    const due = overdueAfterMs(new Map(), 'webhook-first', params);
    expect(due).toBeGreaterThan(2 * 10_000);
    expect(due).toBeLessThanOrEqual(params.capMs);
  });

  it('once learned, a task is overdue at 2 × p95 of its class, not at the fixed cap', () => {
    const p95 = quantileMs(learned, 0.95) ?? 0;
    expect(overdueAfterMs(learned, 'webhook-first', { ...params, minDelayMs: 100 })).toBe(
      Math.round(2 * p95),
    );
  });

  it('never earlier than the floor, never later than the cap (the cap wins)', () => {
    const fast = sketchOf(Array.from({ length: 50 }, () => 200));
    expect(overdueAfterMs(fast, 'webhook-first', params)).toBe(params.minDelayMs);
    const slow = sketchOf(Array.from({ length: 50 }, () => 600_000));
    expect(overdueAfterMs(slow, 'webhook-first', params)).toBe(params.capMs);
    expect(overdueAfterMs(fast, 'webhook-first', { ...params, capMs: 1500 })).toBe(1500);
  });

  it('poll-first (webhooks degraded) polls at the median, earlier than webhook-first', () => {
    const p = { ...params, minDelayMs: 100 };
    const pollFirst = overdueAfterMs(learned, 'poll-first', p);
    expect(pollFirst).toBe(Math.round(quantileMs(learned, 0.5) ?? 0));
    expect(pollFirst).toBeLessThan(overdueAfterMs(learned, 'webhook-first', p));
  });

  it('later polls back off from the median by 1.5× each, up to the maximum interval', () => {
    const base = quantileMs(learned, 0.5) ?? 0;
    const delays = [1, 2, 3].map((n) => nextPollDelay(learned, n, params));
    expect(delays).toEqual([Math.round(base), Math.round(base * 1.5), Math.round(base * 2.25)]);
    expect(nextPollDelay(learned, 60, params)).toBe(params.maxIntervalMs);
  });

  it('a failed getResponse is retried within seconds, jittered around POLL_RETRY_MS', () => {
    expect(retryDelay(params, () => 0)).toBe(500);
    expect(retryDelay(params, () => 0.999_999)).toBe(1500);
  });
});
