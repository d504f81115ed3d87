// The simulator's latency draw: uniform by default, lognormal around a median when one is given.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { drawLatency } from '../../src/simulator/task-runner.js';

const draws = (n: number, f: () => number) => Array.from({ length: n }, f).sort((a, b) => a - b);

describe('simulator latency', () => {
  it('is uniform within [minMs, maxMs] without a median', () => {
    const r = createRandom(1);
    const xs = draws(2000, () => drawLatency({ minMs: 100, maxMs: 200 }, r));
    expect(xs[0]).toBeGreaterThanOrEqual(100);
    expect(xs.at(-1)).toBeLessThanOrEqual(200);
  });

  it('is lognormal around the median (p95 ≈ median × e^(1.645 σ)), clamped to its bounds', () => {
    const r = createRandom(7);
    const xs = draws(20_000, () => drawLatency({ minMs: 0, maxMs: 60_000, medianMs: 1500, sigma: 0.5 }, r));
    const q = (p: number) => xs[Math.floor(p * xs.length)]!;
    expect(q(0.5)).toBeGreaterThan(1400);
    expect(q(0.5)).toBeLessThan(1600);
    expect(q(0.95) / q(0.5)).toBeGreaterThan(2.1);
    expect(q(0.95) / q(0.5)).toBeLessThan(2.5);
    const clamped = draws(2000, () => drawLatency({ minMs: 1000, maxMs: 2000, medianMs: 1500, sigma: 2 }, r));
    expect(clamped[0]).toBe(1000);
    expect(clamped.at(-1)).toBe(2000);
  });
});
