// The webhook benchmark reads each server's ack-time quantiles from its Prometheus histogram.
import { describe, expect, it } from 'vitest';
import { type Buckets, bucketDiff, bucketQuantile } from '../../bench/support/prom-histogram.js';

describe('quantiles from histogram buckets', () => {
  it('interpolates within the bucket the rank falls in, as histogram_quantile does', () => {
    const b: Buckets = [
      [0.001, 50],
      [0.002, 90],
      [0.005, 100],
      [Number.POSITIVE_INFINITY, 100],
    ];
    expect(bucketQuantile(b, 0.5)).toBeCloseTo(0.001);
    expect(bucketQuantile(b, 0.7)).toBeCloseTo(0.0015);
    expect(bucketQuantile(b, 0.99)).toBeCloseTo(0.0047);
  });

  it('answers the last finite bound for ranks in +Inf, and NaN without observations', () => {
    expect(
      bucketQuantile(
        [
          [0.01, 1],
          [Number.POSITIVE_INFINITY, 10],
        ],
        0.99,
      ),
    ).toBe(0.01);
    expect(
      bucketQuantile(
        [
          [0.01, 0],
          [Number.POSITIVE_INFINITY, 0],
        ],
        0.5,
      ),
    ).toBeNaN();
  });

  it('subtracts the counts scraped before a run from those after it', () => {
    const before: Buckets = [
      [0.001, 10],
      [Number.POSITIVE_INFINITY, 20],
    ];
    const after: Buckets = [
      [0.001, 15],
      [Number.POSITIVE_INFINITY, 40],
    ];
    expect(bucketDiff(before, after)).toEqual([
      [0.001, 5],
      [Number.POSITIVE_INFINITY, 20],
    ]);
  });
});
