// Reads every task's timeline back from its Redis record after a run: when the provider accepted it,
// when its (first) result arrived, when it ended. Exact, so in-flight figures need no sampling.
import type { Redis } from 'ioredis';
import { TaskKeys } from '../../src/tasks/keys.js';

/** Milliseconds since the epoch; NaN for a step the task has not reached. */
export interface TaskTimeline {
  submittedAt: number;
  receivedAt: number;
  finishedAt: number;
}

const READ_CHUNK = 1000;

export async function readTimelines(
  redis: Redis,
  queuePrefix: string,
  queueName: string,
  taskUUIDs: readonly string[],
): Promise<TaskTimeline[]> {
  const keys = new TaskKeys(queuePrefix, queueName);
  const out: TaskTimeline[] = [];
  for (let i = 0; i < taskUUIDs.length; i += READ_CHUNK) {
    const chunk = taskUUIDs.slice(i, i + READ_CHUNK);
    const p = redis.pipeline();
    for (const id of chunk) {
      p.hmget(keys.task(id), 'submittedAt', 'finishedAt');
      p.hvals(keys.items(id));
    }
    const res = (await p.exec()) ?? [];
    for (let j = 0; j < chunk.length; j++) {
      const [submittedAt, finishedAt] = (res[2 * j]?.[1] ?? []) as (string | null)[];
      const items = (res[2 * j + 1]?.[1] ?? []) as string[];
      // Items are stored as "slot|receivedAt|json"; the first to arrive is the one that woke the job.
      const received = items.map((v) => Number(v.split('|', 2)[1]));
      out.push({
        submittedAt: toTime(submittedAt),
        receivedAt: received.length ? Math.min(...received) : Number.NaN,
        finishedAt: toTime(finishedAt),
      });
    }
  }
  return out;
}

/** A stored timestamp, or NaN when the field is missing (the task never got that far). */
function toTime(v: string | null | undefined): number {
  return v ? Number(v) : Number.NaN;
}

/** The largest number of intervals [submittedAt, finishedAt) open at one instant. */
export function peakConcurrency(timelines: readonly TaskTimeline[]): number {
  const events: [number, number][] = [];
  for (const t of timelines) events.push([t.submittedAt, 1], [t.finishedAt, -1]);
  // Ends before starts at the same millisecond: a task that ended does not overlap one that began then.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of events) {
    open += d;
    if (open > peak) peak = open;
  }
  return peak;
}
