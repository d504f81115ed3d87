// The Redis key layout. Every key (ours and BullMQ's) starts with the hash-tagged `{QUEUE_PREFIX}`,
// so every multi-key operation lands in one Redis Cluster slot.

/** Events kept in the stream (approximate trim); subscribers resume from any id still in it. */
export const EVENTS_STREAM_MAX_LEN = 1_000_000;

/** How long an ended task's record, items and outputs stay in Redis (as long as failed jobs). */
export const RECORD_RETENTION_SEC = 30 * 24 * 3600;

/** BullMQ's `prefix` option for a queue prefix: the hash tag around it. */
export function bullPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}

export class TaskKeys {
  /** e.g. `{kr}:image-inference:kr:` */
  readonly base: string;
  /** BullMQ's sorted set of the queue's delayed (here: parked) jobs. */
  readonly delayed: string;
  constructor(queuePrefix: string, queueName: string) {
    this.base = `${bullPrefix(queuePrefix)}:${queueName}:kr:`;
    this.delayed = `${bullPrefix(queuePrefix)}:${queueName}:delayed`;
  }
  /** Hash: the task's state, expected count, deadlines, error. */
  task(taskUUID: string): string {
    return `${this.base}task:${taskUUID}`;
  }
  /** Hash: imageUUID → `slot|item JSON` for every result received (webhook or poll). */
  items(taskUUID: string): string {
    return `${this.base}items:${taskUUID}`;
  }
  /** Hash: slot → StoredOutput JSON for every output stored in S3. */
  stored(taskUUID: string): string {
    return `${this.base}stored:${taskUUID}`;
  }
  /** Hash: slot → SlotFailure JSON for every slot that ended without a stored output. */
  failures(taskUUID: string): string {
    return `${this.base}failures:${taskUUID}`;
  }
  /** Hash: slot → ProviderFailure JSON, upload mode: the current attempt's item error per slot. */
  slotErrors(taskUUID: string): string {
    return `${this.base}slot-errors:${taskUUID}`;
  }
  batch(batchId: string): string {
    return `${this.base}batch:${batchId}`;
  }
  /** Sorted set: the batch's taskUUIDs, scored by their index in the batch. */
  batchTasks(batchId: string): string {
    return `${this.base}batch:${batchId}:tasks`;
  }
  /** Sorted set: every batchId, scored by creation time. */
  batches(): string {
    return `${this.base}batches`;
  }
  /** Stream: task.completed / task.failed / task.cancelled / batch.* events, appended atomically. */
  events(): string {
    return `${this.base}events`;
  }
  /**
   * String: this dataset's epoch, written once by the first process to start. When it vanishes, Redis
   * lost its data (restarted empty, flushed): see service/data-loss-guard.ts.
   */
  epoch(): string {
    return `${this.base}epoch`;
  }
  /** String: why the worker paused the queue (auth or quota refused). */
  pausedReason(): string {
    return `${this.base}paused-reason`;
  }
  /** Sorted set: in-flight taskUUIDs scored by when their results are due (for overdue views). */
  inflight(): string {
    return `${this.base}inflight`;
  }
  /** Hash: latency sketch of one class (`b<bucket>` → decayed weight), see latency-sketch.ts. */
  latency(latencyClass: string): string {
    return `${this.base}latency:${latencyClass}`;
  }
  /** Hash: slots delivered by webhook vs by polling (decayed), and the poll-first switch. */
  deliveryHealth(): string {
    return `${this.base}delivery-health`;
  }
  /** Hash: the shared getResponse token bucket. */
  pollBudget(): string {
    return `${this.base}poll-budget`;
  }
}
