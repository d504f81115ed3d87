// The human `status` of a batch shows when it is held by its budget, and how many tasks are overdue.
import { describe, expect, it } from 'vitest';
import { batchSummaryLines } from '../../src/cli/batch-summary.js';
import type { BatchStatus } from '../../src/status/read-status.js';

const base: BatchStatus = {
  batchId: 'spring',
  state: 'running',
  total: 3,
  queued: 2,
  inFlight: 1,
  completed: 0,
  partial: 0,
  failed: 0,
  cancelled: 0,
  cost: 0,
  budgetUsd: 0.05,
  held: false,
  createdAt: 0,
  finishedAt: null,
  cancelRequested: false,
};

describe('batch summary', () => {
  it('a held batch says so, with its budget and how to raise it', () => {
    const out = batchSummaryLines({ ...base, held: true }, []);
    expect(out[0]).toBe('batch spring: running (held)');
    expect(out[2]).toContain('budget of $0.05');
    expect(out[2]).toContain('kontext-relay budget spring <usd>');
  });

  it('counts overdue tasks; a batch that is not held has no held line', () => {
    const out = batchSummaryLines(base, [{ overdue: true }, { overdue: false }, { overdue: true }]);
    expect(out[0]).toBe('batch spring: running');
    expect(out[1]).toContain('| overdue 2 |');
    expect(out).toHaveLength(2);
  });
});
