// Records kept in Redis for a task and a batch, as the worker, webhook server, dashboard and CLI see them.
import type { ResultItem } from '../contract/index.js';

export type TaskState = 'submitting' | 'submitted' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['completed', 'failed', 'cancelled']);

export type DeliveryMode = 'webhook' | 'upload';

export interface TaskRecord {
  taskUUID: string;
  jobId: string;
  batchId: string | undefined;
  state: TaskState;
  mode: DeliveryMode;
  expected: number;
  createdAt: number;
  submittedAt: number | undefined;
  finishedAt: number | undefined;
  deadlineAt: number;
  /** When the results were first due (the first poll time); unlike nextPollAt it never moves. */
  dueAt: number;
  nextPollAt: number;
  polls: number;
  reason: string | undefined;
  providerError: ProviderFailure | undefined;
  /** Provider task UUIDs in upload mode (one single-result provider task per output slot). */
  subtasks: string[];
  /** 0 for the first run; each operator retry of a failed task adds one. */
  attempt: number;
  /** The taskUUID the provider knows this attempt by: the task's own for attempt 0, derived after. */
  providerTaskUUID: string;
}

export interface ProviderFailure {
  code: string;
  message: string;
}

export interface ReceivedItem {
  slot: number;
  receivedAt: number;
  item: ResultItem;
}

/** One output stored in S3: part of a completed job's return value and of `status --json`. */
export interface StoredOutput {
  slot: number;
  bucket: string;
  key: string;
  size: number;
  sha256: string;
  contentType: string;
  imageUUID: string;
  seed: string | undefined;
  cost: number | undefined;
  NSFWContent: boolean | undefined;
  storedAt: number;
}

export interface BatchRecord {
  batchId: string;
  total: number;
  createdAt: number;
  state: 'enqueuing' | 'enqueued';
  submitted: number;
  /** Tasks that ended after the provider accepted them (so in flight = submitted - settled). */
  settled: number;
  completed: number;
  failed: number;
  cancelled: number;
  cost: number;
  finishedAt: number | undefined;
  cancelRequested: boolean;
  budgetUsd: number | undefined;
  callbackUrl: string | undefined;
}

export type RecordItemOutcome =
  | { kind: 'new'; jobId: string; slot: number }
  | { kind: 'duplicate'; jobId: string }
  | { kind: 'late'; jobId: string }
  | { kind: 'extra'; jobId: string }
  | { kind: 'unknown' };
