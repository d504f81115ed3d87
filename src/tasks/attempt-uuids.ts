// Provider taskUUIDs per attempt and per upload-mode slot, derived (not random) so a retried submit
// reuses them and the provider's conflictTaskUUID tells us it already has the task.
import { deriveUuid } from './derive-uuid.js';

/** The provider taskUUID of an operator retry: attempt 0 is the task's own UUID. */
export function attemptProviderUuid(taskUUID: string, attempt: number): string {
  return attempt === 0 ? taskUUID : deriveUuid(`${taskUUID}/attempt/${attempt}`);
}

/** One single-result provider task per output slot in upload mode. */
export function uploadSubtaskUuids(providerTaskUUID: string, numberResults: number): string[] {
  return Array.from({ length: numberResults }, (_, slot) => deriveUuid(`${providerTaskUUID}/upload/${slot}`));
}

/** The provider taskUUID of the n-th retry (n ≥ 1) of a task's missing slots. */
export function slotRetryProviderUuid(taskUUID: string, n: number): string {
  return deriveUuid(`${taskUUID}/slots/${n}`);
}
