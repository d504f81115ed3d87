// The chart series from task samples: buckets, in-flight counts, latency bins, spend, arrivals.
import { describe, expect, it } from 'vitest';
import {
  buildChartData,
  LATENCY_EDGES_MS,
  MAX_BUCKETS,
  pickBucketMs,
} from '../../src/dashboard/charts/chart-data.js';

const T0 = 1_700_000_000_000;

describe('chart data', () => {
  it('picks a minute bucket for an hour-long batch and a finer one for a short batch', () => {
    expect(pickBucketMs(60 * 60_000)).toBe(60_000);
    expect(pickBucketMs(10_000)).toBe(1_000);
    expect(pickBucketMs(10 * 24 * 3600_000) / 1).toBeGreaterThan(60_000);
    expect((10 * 60_000) / pickBucketMs(10 * 60_000)).toBeLessThanOrEqual(MAX_BUCKETS);
  });

  it('counts completions, failures, in-flight, latency and spend from the samples', () => {
    const d = buildChartData(
      [
        {
          state: 'completed',
          submittedAt: T0,
          finishedAt: T0 + 30_000,
          cost: 0.04,
          arrivals: [{ at: T0 + 400, via: 'webhook' }],
        },
        { state: 'failed', submittedAt: T0, finishedAt: T0 + 90_000, cost: 0, arrivals: [] },
        {
          state: 'completed',
          submittedAt: T0 + 60_000,
          finishedAt: T0 + 200_000,
          cost: 0.08,
          arrivals: [
            { at: T0 + 70_000, via: 'poll' },
            { at: T0 + 61_500, via: 'webhook' },
          ],
        },
        { state: 'partial', submittedAt: T0, finishedAt: T0 + 100_000, cost: 0.04, arrivals: [] },
        { state: 'queued', submittedAt: null, finishedAt: null, cost: 0, arrivals: [] },
      ],
      1,
      T0 + 500_000,
    );
    expect(d.totals).toMatchObject({ tasks: 5, completed: 2, failed: 1, results: 3 });
    expect(d.totals.spend).toBeCloseTo(0.16, 9);
    expect(d.spend.at(-1)).toBeCloseTo(0.16, 9);
    expect(d.webhook).toBe(2);
    expect(d.poll).toBe(1);
    expect(d.latencyCounts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(d.latencyCounts[LATENCY_EDGES_MS.indexOf(500)]).toBe(1); // 400 ms
    expect(d.latencyCounts[LATENCY_EDGES_MS.indexOf(2_000)]).toBe(1); // 1.5 s
    expect(d.latencyCounts[LATENCY_EDGES_MS.indexOf(10_000)]).toBe(1); // 10 s
    expect(Math.max(...d.inFlight)).toBe(3);
    expect(d.inFlight.at(-1)).toBe(0);
    expect(d.completed.reduce((a, b) => a + b, 0)).toBe(2);
    expect(d.t).toHaveLength(d.completed.length);
  });

  it('an empty sample set gives one empty bucket', () => {
    const d = buildChartData([], null, T0);
    expect(d.t).toHaveLength(1);
    expect(d.totals.tasks).toBe(0);
  });
});
