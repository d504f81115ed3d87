// Validates a user task and gives it its taskUUID: the caller's, one derived from an idempotency key,
// or a fresh random one.
import { randomUUID } from 'node:crypto';
import { validateTaskInput } from '../contract/index.js';
import { ValidationError } from '../errors.js';
import { deriveUuid } from '../tasks/derive-uuid.js';
import type { QueuedTask } from '../tasks/job-data.js';

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
