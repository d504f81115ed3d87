// The BullMQ job as producer and worker share it: one job per task, its id the taskUUID.
import type { ValidTask } from '../contract/index.js';
import type { SlotFailure, StoredOutput } from './types.js';

export const JOB_NAME = 'imageInference';

export type QueuedTask = ValidTask & { taskUUID: string };

export interface TaskJobData {
  task: QueuedTask;
  batchId?: string;
  /** Fair-share tenant (issue 14); absent: the batch id, or DEFAULT_TENANT for a single task. */
  tenant?: string;
  enqueuedAt: number;
  /** W3C traceparent of the task's trace (src/tracing/spans.ts); absent when tracing was off at enqueue. */
  trace?: string;
}

/** A completed job's return value. */
export interface TaskJobResult {
  taskUUID: string;
  outputs: StoredOutput[];
  /** Sum of the provider's reported cost, USD (0 when none was reported). */
  cost: number;
  /** A partial task: the slots that ended without an output, each with its reason. */
  failedSlots?: SlotFailure[];
}
