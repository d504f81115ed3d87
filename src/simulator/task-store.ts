// Every accepted task's items and their current state, kept in memory for getResponse and
// conflict checks. Items only move processing → success | error, never back.
import type { ProviderErrorBody } from './provider-errors.js';

/** A result item as it goes on the wire; `seed` is a decimal string written as a JSON integer. */
export type WireItem = Record<string, unknown> & {
  taskType: 'imageInference';
  taskUUID: string;
  imageUUID: string;
};

export type ItemState =
  | { status: 'processing' }
  | { status: 'success'; item: WireItem }
  | { status: 'error'; error: ProviderErrorBody };

export type DeliveryMethod = 'sync' | 'async';

export interface TaskRecord {
  readonly taskUUID: string;
  readonly deliveryMethod: DeliveryMethod;
  readonly items: ItemState[];
}

export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();

  get(taskUUID: string): TaskRecord | undefined {
    return this.tasks.get(taskUUID);
  }

  create(taskUUID: string, deliveryMethod: DeliveryMethod, numberResults: number): TaskRecord {
    const record: TaskRecord = {
      taskUUID,
      deliveryMethod,
      items: Array.from({ length: numberResults }, () => ({ status: 'processing' as const })),
    };
    this.tasks.set(taskUUID, record);
    return record;
  }

  /**
   * The full current state of a task as getResponse reports it (shared contract §6): processing and
   * successful items in `data`, failed items in `errors` with status "error". Unknown → nothing.
   */
  pollView(taskUUID: string): { data: Record<string, unknown>[]; errors: ProviderErrorBody[] } {
    const record = this.tasks.get(taskUUID);
    const data: Record<string, unknown>[] = [];
    const errors: ProviderErrorBody[] = [];
    for (const state of record?.items ?? []) {
      if (state.status === 'processing')
        data.push({ taskType: 'imageInference', taskUUID, status: 'processing' });
      else if (state.status === 'success') data.push({ ...state.item, status: 'success' });
      else errors.push({ ...state.error, status: 'error' });
    }
    return { data, errors };
  }
}
