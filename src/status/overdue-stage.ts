// Why an overdue task is still in flight, for `status` and the dashboard: it is overdue once its
// results were due (the first poll time, from the learned latency) and the task has not ended.
import type { TaskStore } from '../tasks/task-store.js';
import type { TaskRecord } from '../tasks/types.js';

/**
 * - `waiting for webhook`: results missing, not polled yet;
 * - `polling`: results missing, getResponse asked at least once;
 * - `fetching`: every result received, some still to download from the provider's URL;
 * - `storing`: every result received (inline data or an upload), some not stored in S3 yet.
 */
export type OverdueStage = 'waiting for webhook' | 'polling' | 'fetching' | 'storing';

export interface OverdueInfo {
  overdueForMs: number;
  waitingFor: OverdueStage;
}

export function isOverdue(rec: TaskRecord | null, now: number): rec is TaskRecord {
  return rec?.state === 'submitted' && rec.dueAt > 0 && now > rec.dueAt;
}

export async function describeOverdue(
  tasks: Pick<TaskStore, 'receivedItems'>,
  rec: TaskRecord,
  storedCount: number,
  now: number,
): Promise<OverdueInfo> {
  const received = await tasks.receivedItems(rec.taskUUID);
  const overdueForMs = now - rec.dueAt;
  if (received.length < rec.expected) {
    return { overdueForMs, waitingFor: rec.polls > 0 ? 'polling' : 'waiting for webhook' };
  }
  const stored = storedCount;
  const needsFetch = rec.mode === 'webhook' && received.some((r) => r.item.imageURL && r.slot >= stored);
  return { overdueForMs, waitingFor: needsFetch ? 'fetching' : 'storing' };
}
