// Checks for fair-share runs (issue 14), read from the task records the relay keeps.
import type { TaskStatus } from '../../src/status/read-status.js';

/**
 * The most tasks ever between their provider acceptance (submittedAt) and their end (finishedAt) at
 * the same time. A task holds its slot from before submit until after it ends, so with MAX_IN_FLIGHT
 * set this can never exceed the cap.
 */
export function maxOverlap(tasks: readonly Pick<TaskStatus, 'submittedAt' | 'finishedAt'>[]): number {
  const edges = tasks.flatMap((t) => [
    { at: t.submittedAt ?? Number.NaN, d: 1 },
    { at: t.finishedAt ?? Number.NaN, d: -1 },
  ]);
  if (edges.some((e) => Number.isNaN(e.at))) throw new Error('a task was never submitted or never ended');
  // An end and a start at the same millisecond: the end first (the slot was released before reuse).
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}
