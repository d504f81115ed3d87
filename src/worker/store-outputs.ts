// Stores every received-but-unstored output of a task in S3, at most once per slot. A result that
// cannot be fetched is tried OUTPUT_FETCH_ATTEMPTS times with backoff, then its slot fails with the
// reason (a refused one fails at once); an unavailable S3 is retried with backoff until the deadline.
// Webhook mode: fetch or decode the bytes (SSRF-guarded) and PUT them. Upload mode: the provider PUTs
// to our presigned URL after its webhook, so confirm the object (HEAD, size > 0, whole and of the task's
// size), hash it and set its metadata; if it never arrives or fails the checks, fetch the result ourselves.
import { createHash } from 'node:crypto';
import { CONTENT_TYPES, type OutputFormat, type ResultItem } from '../contract/index.js';
import { OutputFetchError } from '../errors.js';
import { detectImage } from '../outputs/detect-image.js';
import { getOutputBytes } from '../outputs/get-output-bytes.js';
import { refuseAmbiguous } from '../outputs/image-source.js';
import { outputCorrupt } from '../outputs/output-errors.js';
import { outputKey } from '../storage/key-layout.js';
import type { QueuedTask } from '../tasks/job-data.js';
import type { SlotsState } from '../tasks/task-store.js';
import type { ReceivedItem, SlotFailure, StoredOutput, TaskRecord } from '../tasks/types.js';
import { ATTR, activeTaskAttributes, taskSpan } from '../tracing/spans.js';
import { backoffDelay } from './retry-backoff.js';
import type { WorkerDeps } from './worker-deps.js';

export interface StoreProgress {
  /** All expected outputs are stored. */
  complete: boolean;
  outputs: StoredOutput[];
  /** Slots that ended without a stored output (fetch failures after their attempts, provider errors). */
  failed: SlotFailure[];
  /** Upload-mode objects not in the bucket yet. */
  awaitingUploads: number;
  /** A retryable failure (S3 or fetch) to try again later, at `retryAt`. */
  retryLater: Error | undefined;
  retryAt: number | undefined;
  /** How many items had been received when this looked. */
  received: number;
  /** Slots with a received item. */
  receivedSlots: Set<number>;
  /** Storing the last output also ended the task (completed), in the same script: its finish code. */
  finished?: 'already' | 'ended' | 'batchEnded';
}

/**
 * `seen`: the slots as this activation read them with the record (TaskStore.snapshot); read here
 * when absent. Its stored list is not modified.
 */
export async function storeOutputs(
  deps: WorkerDeps,
  rec: TaskRecord,
  task: QueuedTask,
  seen?: SlotsState,
): Promise<StoreProgress> {
  const slots = deps.tasks.slots;
  const [received, storedBefore, failedBefore] = seen
    ? [seen.items, seen.stored, seen.failures]
    : await Promise.all([
        deps.tasks.receivedItems(rec.taskUUID),
        deps.tasks.storedOutputs(rec.taskUUID),
        slots.failures(rec.taskUUID),
      ]);
  const stored = [...storedBefore];
  const schedule = rec.fetchAt;
  const now = Date.now();
  const ended = new Set([...stored.map((s) => s.slot), ...failedBefore.map((f) => f.slot)]);
  const notYet = received.filter((r) => !ended.has(r.slot) && (schedule.get(r.slot) ?? 0) > now);
  const todo = received.filter((r) => !ended.has(r.slot) && (schedule.get(r.slot) ?? 0) <= now);
  let awaitingUploads = 0;
  let retryLater: Error | undefined;
  let retryAt = notYet.length ? Math.min(...notYet.map((r) => schedule.get(r.slot) ?? now)) : undefined;
  const later = (at: number) => {
    retryAt = retryAt === undefined ? at : Math.min(retryAt, at);
  };
  // The last missing output of an untraced task: its store also ends the task, in one script
  // (traced tasks end through traceCompletion, which records the provider wait first).
  const last =
    todo.length === 1 &&
    failedBefore.length === 0 &&
    stored.length + 1 === rec.expected &&
    !activeTaskAttributes()
      ? { before: stored.slice() as StoredOutput[], finished: undefined as StoreProgress['finished'] }
      : undefined;
  const results = await Promise.allSettled(todo.map((r) => storeOne(deps, rec, task, r, last)));
  const failedNow: SlotFailure[] = [];
  for (const [i, r] of results.entries()) {
    const slot = todo[i]!.slot;
    if (r.status === 'fulfilled') {
      if (r.value === 'awaiting') awaitingUploads++;
      else stored.push(r.value);
      continue;
    }
    deps.metrics.storageErrors.inc({ code: codeOf(r.reason) });
    const err = r.reason as Error;
    if (r.reason instanceof OutputFetchError) {
      // The result itself is at fault: bounded tries with backoff, then the slot fails with the code.
      const failure: SlotFailure = { slot, code: r.reason.code, message: err.message, stage: 'fetch' };
      if (!r.reason.retryable) {
        failedNow.push(failure);
        continue;
      }
      const max = deps.config.OUTPUT_FETCH_ATTEMPTS;
      const retryAts = Array.from({ length: max }, (_, n) => now + backoffDelay(n + 1, policyOf(deps)));
      const tries = await slots.noteFetchFailure(rec.taskUUID, failure, max, retryAts);
      if (tries >= max) failedNow.push(failure);
      else {
        retryLater = err;
        later(retryAts[tries - 1] ?? now);
      }
    } else {
      // S3 (or the network to it) is away: retry with backoff until the task's deadline.
      retryLater = err;
      later(now + backoffDelay(await slots.noteStoreFailure(rec.taskUUID), policyOf(deps)));
    }
  }
  await slots.failSlots(rec.taskUUID, failedNow);
  for (const f of failedNow) deps.metrics.slotsFailed.inc({ code: f.code });
  stored.sort((a, b) => a.slot - b.slot);
  const failed = [...failedBefore, ...failedNow.filter((f) => !failedBefore.some((b) => b.slot === f.slot))];
  return {
    complete: stored.length >= rec.expected,
    outputs: stored,
    failed: failed.sort((a, b) => a.slot - b.slot),
    awaitingUploads,
    retryLater,
    retryAt,
    received: received.length,
    receivedSlots: new Set(received.map((r) => r.slot)),
    ...(last?.finished ? { finished: last.finished } : {}),
  };
}

function policyOf(deps: WorkerDeps) {
  return { baseMs: deps.config.OUTPUT_RETRY_BASE_MS, maxMs: deps.config.OUTPUT_RETRY_MAX_MS };
}

async function storeOne(
  deps: WorkerDeps,
  rec: TaskRecord,
  task: QueuedTask,
  r: ReceivedItem,
  last?: { before: StoredOutput[]; finished: StoreProgress['finished'] },
): Promise<StoredOutput | 'awaiting'> {
  const prefix = deps.config.S3_KEY_PREFIX;
  let out: StoredOutput;
  if (rec.mode === 'upload') {
    // The same contract breach as in webhook mode, even when the upload itself arrived (README "Guarantees").
    refuseAmbiguous(r.item);
    const format: OutputFormat = task.outputFormat ?? 'JPG';
    const key = outputKey(prefix, rec.taskUUID, r.slot, format);
    // kr.store_output in upload mode: confirm the provider's PUT (HEAD, GET) and set its metadata.
    const confirmed = await taskSpan('kr.store_output', slotAttributes(r, key), async (span) => {
      const head = await deps.store.head(key);
      const bytes = head && head.size > 0 ? await deps.store.get(key) : undefined;
      const refused = bytes && uploadRefusal(bytes, task, format);
      span.setAttribute(ATTR.outcome, bytes ? (refused ? 'refused' : 'uploaded') : 'not yet uploaded');
      if (bytes && !refused) {
        const metadata = metadataOf(rec.taskUUID, r);
        await deps.store.replaceMetadata(key, { contentType: CONTENT_TYPES[format], metadata });
        span.setAttribute(ATTR.bytes, bytes.length);
      }
      return { bytes, refused };
    });
    const { bytes, refused } = confirmed;
    if (bytes && !refused) {
      out = toOutput(r, deps.store.bucket, key, bytes.length, sha256(bytes), CONTENT_TYPES[format]);
    } else if (refused) {
      // The provider's PUT is unusable: remove it so it can never be taken for the output, then fetch.
      deps.logger.warn(
        { taskUUID: rec.taskUUID, slot: r.slot, code: refused.code, reason: refused.message },
        'uploaded output failed its checks; deleted, fetching result',
      );
      await deps.store.delete(key);
      out = await fetchAndPut(deps, rec, task, r);
    } else if (Date.now() - r.receivedAt < deps.config.UPLOAD_CONFIRM_TIMEOUT_MS) {
      return 'awaiting';
    } else {
      deps.logger.warn(
        { taskUUID: rec.taskUUID, slot: r.slot },
        'provider upload never arrived; fetching result',
      );
      out = await fetchAndPut(deps, rec, task, r);
    }
  } else {
    out = await fetchAndPut(deps, rec, task, r);
  }
  let marked: { stored: number; expected: number } | null;
  if (last) {
    const outputs = [...last.before, out].sort((a, b) => a.slot - b.slot);
    const r = await deps.tasks.storeAndFinish(rec.taskUUID, rec.batchId, out, outputs);
    marked = r;
    last.finished = r?.finished;
  } else marked = await deps.tasks.markStored(rec.taskUUID, out);
  if (marked) {
    deps.metrics.outputsStored.inc();
    await deps.tasks.forgetInlineData(rec.taskUUID, r);
  }
  return out;
}

async function fetchAndPut(
  deps: WorkerDeps,
  rec: TaskRecord,
  task: QueuedTask,
  r: ReceivedItem,
): Promise<StoredOutput> {
  // Verified whole and of the task's size before the PUT (README "Guarantees"); OUTPUT_CORRUPT retries.
  const got = await taskSpan('kr.fetch_output', slotAttributes(r), async (span) => {
    const bytes = await getOutputBytes(r.item, deps.fetchPolicy, deps.fetchDispatcher, {
      width: task.width,
      height: task.height,
    });
    span.setAttribute(ATTR.bytes, bytes.bytes.length);
    return bytes;
  });
  const key = outputKey(deps.config.S3_KEY_PREFIX, rec.taskUUID, r.slot, got.format);
  const obj = await taskSpan(
    'kr.store_output',
    { ...slotAttributes(r, key), [ATTR.bytes]: got.bytes.length },
    () =>
      deps.store.put(key, got.bytes, { contentType: got.contentType, metadata: metadataOf(rec.taskUUID, r) }),
  );
  return toOutput(r, obj.bucket, obj.key, obj.size, obj.sha256, obj.contentType);
}

function slotAttributes(r: ReceivedItem, key?: string) {
  return { [ATTR.slot]: r.slot, [ATTR.imageUUID]: r.item.imageUUID, ...(key ? { [ATTR.s3Key]: key } : {}) };
}

/** Why an uploaded object may not be recorded (incomplete, wrong size or format), or undefined when it may. */
function uploadRefusal(bytes: Buffer, task: QueuedTask, format: OutputFormat): OutputFetchError | undefined {
  try {
    const got = detectImage(bytes, { width: task.width, height: task.height });
    if (got.format === format) return undefined;
    return outputCorrupt(`uploaded ${got.format} where the task asked for ${format}`);
  } catch (e) {
    if (e instanceof OutputFetchError) return e;
    throw e;
  }
}

function metadataOf(taskUUID: string, r: ReceivedItem): Record<string, string> {
  const m: Record<string, string> = { taskuuid: taskUUID, imageuuid: r.item.imageUUID, slot: String(r.slot) };
  if (r.item.seed !== undefined) m.seed = r.item.seed;
  if (r.item.cost !== undefined) m.cost = String(r.item.cost);
  if (r.item.NSFWContent !== undefined) m.nsfwcontent = String(r.item.NSFWContent);
  return m;
}

function toOutput(
  r: { slot: number; item: ResultItem },
  bucket: string,
  key: string,
  size: number,
  hash: string,
  contentType: string,
): StoredOutput {
  return {
    slot: r.slot,
    bucket,
    key,
    size,
    sha256: hash,
    contentType,
    imageUUID: r.item.imageUUID,
    seed: r.item.seed,
    cost: r.item.cost,
    NSFWContent: r.item.NSFWContent,
    storedAt: Date.now(),
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function codeOf(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : 'unknown';
}
