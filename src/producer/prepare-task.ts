// Validates a user task and gives it its taskUUID: the caller's, one derived from an idempotency key
// or from its place in a batch (batch-task-uuid.ts), or a fresh random one.
import { randomUUID } from 'node:crypto';
import { validateTaskInput } from '../contract/index.js';
import { ValidationError } from '../errors.js';
import { deriveUuid } from '../tasks/derive-uuid.js';
import type { QueuedTask } from '../tasks/job-data.js';
import { batchTaskUuid } from './batch-task-uuid.js';

export function prepareTask(input: unknown, idempotencyKey?: string): QueuedTask {
  const valid = validateTaskInput(input);
  if (valid.taskUUID && idempotencyKey) {
    throw new ValidationError([
      {
        path: 'taskUUID',
        rule: 'exclusive',
        message: 'give either taskUUID or an idempotency key, not both',
      },
    ]);
  }
  const taskUUID = valid.taskUUID ?? (idempotencyKey ? deriveUuid(`idem:${idempotencyKey}`) : randomUUID());
  return { ...valid, taskUUID };
}

/** A batch entry: the caller's taskUUID, or one derived from (batch, position, task) so a re-run adds nothing. */
export function prepareBatchTask(input: unknown, batchId: string, position: number): QueuedTask {
  const valid = validateTaskInput(input);
  if (valid.taskUUID) return { ...valid, taskUUID: valid.taskUUID };
  return { ...valid, taskUUID: batchTaskUuid(batchId, position, valid) };
}
