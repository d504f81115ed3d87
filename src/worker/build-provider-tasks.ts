// Turns a queued task into the provider task(s) to submit. Webhook mode: the task itself, async, with
// a tokenised webhookURL. Upload mode: one single-result provider task per output slot, each with its
// own presigned uploadEndpoint — the provider's uploads to one URL overwrite each other (contract §7).
import { type ProviderTask, SEED_MAX } from '../contract/index.js';
import { outputKey } from '../storage/key-layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { QueuedTask } from '../tasks/job-data.js';
import { type WebhookTrace, webhookUrlFor } from '../tokens/webhook-token.js';

export interface DeliveryTarget {
  mode: 'webhook' | 'upload';
  publicUrl: string;
  secret: string;
  /** Unix seconds after which the webhook tokens stop working. */
  tokenExpiresAtSec: number;
  keyPrefix: string;
  /** Presigned URL lifetime for upload mode. */
  uploadUrlTtlSec: number;
  /** The task's trace, passed on in the webhook URL (absent when the task is not traced). */
  trace?: WebhookTrace;
}

export async function buildProviderTasks(
  task: QueuedTask,
  /** `slots`: the output slot of each subtask (upload mode), when not 0, 1, 2… (a slot retry). */
  attempt: { providerTaskUUID: string; subtasks: readonly string[]; slots?: readonly number[] },
  target: DeliveryTarget,
  store: ObjectStore,
): Promise<ProviderTask[]> {
  const base: ProviderTask = {
    ...task,
    taskUUID: attempt.providerTaskUUID,
    taskType: 'imageInference',
    includeCost: true,
    deliveryMethod: 'async',
  };
  if (target.mode === 'webhook') {
    return [
      {
        ...base,
        // The provider's taskUUID, not the task's: a retry's webhooks name the derived UUID in their body,
        // which must match the one the URL token is for (the record routes it to the task).
        webhookURL: webhookUrlFor(
          target.publicUrl,
          target.secret,
          attempt.providerTaskUUID,
          target.tokenExpiresAtSec,
          target.trace,
        ),
      },
    ];
  }
  const format = task.outputFormat ?? 'JPG';
  return Promise.all(
    attempt.subtasks.map(async (subUUID, i) => {
      const slot = attempt.slots?.[i] ?? i;
      return {
        ...base,
        taskUUID: subUUID,
        numberResults: 1,
        ...(task.seed !== undefined ? { seed: offsetSeed(task.seed, slot) } : {}),
        uploadEndpoint: await store.presignPut(
          outputKey(target.keyPrefix, task.taskUUID, slot, format),
          target.uploadUrlTtlSec,
        ),
        webhookURL: webhookUrlFor(
          target.publicUrl,
          target.secret,
          subUUID,
          target.tokenExpiresAtSec,
          target.trace,
        ),
      };
    }),
  );
}

/** Each result of a multi-result task uses a different seed, as the provider does for numberResults. */
export function offsetSeed(seed: string, slot: number): string {
  return ((BigInt(seed) + BigInt(slot)) % (SEED_MAX + 1n)).toString();
}
