// Records kept in Redis for a task and a batch, as the worker, webhook server, dashboard and CLI see them.
import type { ResultItem } from '../contract/index.js';

/**
 * 'partial': every slot ended, some stored and some failed (each failed slot has a reason, see
 * SlotFailure). 'failed': no slot stored. 'completed': every slot stored.
 */
export type TaskState = 'submitting' | 'submitted' | 'completed' | 'partial' | 'failed' | 'cancelled';
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  'completed',
  'partial',
  'failed',
  'cancelled',
]);

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
  /** Slot retries so far (automatic and operator): numbers the derived provider taskUUIDs. */
  slotAttempt: number;
  /** Automatic slot retries used since the task (or an operator retry) started; bounded by config. */
  autoRetries: number;
  /** Webhook mode: numberResults of the current provider task (the missing count for a slot retry). */
  attemptResults: number;
  /** Webhook mode: how many items were received before the current provider task started. */
  attemptBase: number;
  /** Webhook mode: failed items of the current provider task, as getResponse last reported them. */
  attemptErrors: number;
  /** Error webhooks/poll errors recorded for the task, and how many of them the worker has looked at. */
  errorSignals: number;
  errorsSeen: number;
  /** A slot retry is decided (new provider UUIDs recorded) but not yet submitted. */
  retrySubmit: boolean;
  /** An operator retry asked for the missing slots to be generated again. */
  needsSlotRetry: boolean;
  /** Slot → when its result may be fetched again after a failed fetch (absent: now). */
  fetchAt: ReadonlyMap<number, number>;
}

/** Why one output slot of a task ended without a stored image. */
export interface SlotFailure {
  slot: number;
  /** The provider's code (`timeoutProvider`), an `OUTPUT_*` code, or `RESULT_DEADLINE`. */
  code: string;
  message: string;
  /** 'provider': the image was never generated (not billed); 'fetch': generated, but not storable. */
  stage: 'provider' | 'fetch' | 'deadline';
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
  /** Tasks that ended with some slots stored and some failed. */
  partial: number;
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
