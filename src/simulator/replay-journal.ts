// Rebuilds the simulator's memory from its journal at start: tasks, finished items and their images.
// Returns the tasks that still have unfinished items, for the runner to resume once the server listens.
import type { ProviderTask } from '../contract/index.js';
import type { GeneratedResult } from './generated-result.js';
import type { ImageStore } from './image-store.js';
import type { Journal } from './journal.js';
import { renderBase } from './render-image.js';
import type { TaskRecord, TaskStore } from './task-store.js';

export interface PendingTask {
  task: ProviderTask;
  record: TaskRecord;
}

export async function replayJournal(
  journal: Journal,
  tasks: TaskStore,
  images: ImageStore,
  results: GeneratedResult[],
): Promise<PendingTask[]> {
  const byUUID = new Map<string, PendingTask>();
  for (const e of journal.read()) {
    if (e.kind === 'task') {
      const record = tasks.create(e.task.taskUUID, e.deliveryMethod, e.task.numberResults ?? 1);
      byUUID.set(e.task.taskUUID, { task: e.task, record });
      continue;
    }
    const t = byUUID.get(e.taskUUID);
    if (!t) continue;
    t.record.items[e.index] = e.state;
    results.push(e.result);
    if (e.spec && e.state.status === 'success')
      images.add(e.result.imageUUID, await renderBase(e.spec), e.spec, e.ttl);
  }
  return [...byUUID.values()].filter((t) => t.record.items.some((i) => i.status === 'processing'));
}
