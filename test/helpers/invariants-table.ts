// The invariants every run must keep, checked from outside the relay (its Redis records, the S3
// bucket, the simulator's own list of what it generated) and returned as table rows, so a run prints
// all of them and a failure names every broken one at once.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { GeneratedResult } from '../../src/simulator/index.js';
import { readBatchStatus, readBatchTasks, type TaskStatus } from '../../src/status/read-status.js';
import {
  attemptProviderUuid,
  slotRetryProviderUuid,
  uploadSubtaskUuids,
} from '../../src/tasks/attempt-uuids.js';
import type { RelayObserver } from './relay-observer.js';
import { printTable } from './text-table.js';

/** Objects downloaded and hashed at once. */
const HASH_CONCURRENCY = 16;
/** Violations listed per invariant (the count is always complete). */
const SHOWN = 3;

export interface InvariantRow {
  invariant: string;
  holds: boolean;
  detail: string;
}

export interface RunFacts {
  tasks: number;
  completed: number;
  partial: number;
  failed: number;
  outputs: number;
  objects: number;
  /** Objects of failed tasks that are not recorded outputs (the provider's uploads, upload mode). */
  leftByFailedTasks: number;
  providerResults: number;
  providerErrors: number;
}

export interface InvariantOptions {
  /** Failure reasons the run expects (the injected provider errors); any other reason breaks the run. */
  allowedFailure?: RegExp;
}

export async function checkRunInvariants(
  obs: RelayObserver,
  batchId: string,
  providerResults: readonly GeneratedResult[],
  opts: InvariantOptions = {},
): Promise<{ rows: InvariantRow[]; facts: RunFacts }> {
  const rows: InvariantRow[] = [];
  const add = (invariant: string, bad: string[], ok: string) =>
    rows.push({
      invariant,
      holds: bad.length === 0,
      detail: bad.length === 0 ? ok : `${bad.length} violation(s): ${bad.slice(0, SHOWN).join('; ')}`,
    });

  const status = await readBatchStatus(obs, batchId);
  if (!status) throw new Error(`batch ${batchId} has no record`);
  const tasks = await readBatchTasks(obs, batchId, 0, 1_000_000);
  const completed = tasks.filter((t) => t.state === 'completed');
  const partial = tasks.filter((t) => t.state === 'partial');
  const failed = tasks.filter((t) => t.state === 'failed');
  const outputs = tasks.flatMap((t) => t.outputs.map((o) => ({ task: t, o })));

  add(
    'every task ended: completed, partial (every slot stored or failed with a reason), or failed with a reason',
    [
      ...(tasks.length === status.total ? [] : [`${tasks.length} task records for ${status.total} tasks`]),
      ...tasks
        .filter(
          (t) =>
            !(
              t.state === 'completed' ||
              (t.state === 'failed' && t.reason) ||
              (t.state === 'partial' && t.reason && t.outputs.length + t.failedSlots.length === t.expected)
            ),
        )
        .map((t) => `${t.taskUUID} ${t.state}/${t.jobState} reason=${t.reason ?? '-'}`),
    ],
    `${completed.length} completed, ${partial.length} partial, ${failed.length} failed, of ${status.total}`,
  );
  if (opts.allowedFailure) {
    const re = opts.allowedFailure;
    add(
      `failures are only the injected ones (${re.source})`,
      [
        ...failed.filter((t) => !re.test(t.reason ?? '')).map((t) => `${t.taskUUID}: ${t.reason}`),
        ...partial.flatMap((t) =>
          t.failedSlots
            .filter((f) => !re.test(`${f.code}: ${f.message}`))
            .map((f) => `${t.taskUUID} slot ${f.slot}: ${f.code}: ${f.message}`),
        ),
      ],
      `${failed.length} failed, ${partial.length} partial, all as injected`,
    );
  }
  add(
    'a completed task holds every output, one per slot',
    completed.filter((t) => !slotsComplete(t)).map((t) => `${t.taskUUID}: ${t.outputs.length}/${t.expected}`),
    `${completed.reduce((s, t) => s + t.expected, 0)} outputs in ${completed.length} tasks`,
  );

  const byImage = new Map(providerResults.filter((r) => !r.error).map((r) => [r.imageUUID, r]));
  rows.push(everySuccessStoredOnce(tasks, providerResults));
  add(
    'every stored output is an image the provider generated',
    outputs.filter(({ o }) => !byImage.has(o.imageUUID)).map(({ o }) => `${o.key} (${o.imageUUID})`),
    `${outputs.length} outputs`,
  );
  const seen = new Map<string, number>();
  for (const { o } of outputs) seen.set(o.imageUUID, (seen.get(o.imageUUID) ?? 0) + 1);
  const recordedKeys = new Set(outputs.map(({ o }) => o.key));
  const listed = await obs.store.list(obs.config.S3_KEY_PREFIX);
  const stateOf = new Map(tasks.map((t) => [t.taskUUID, t.state]));
  const unrecorded = listed.map((l) => l.key).filter((k) => !recordedKeys.has(k));
  // Upload mode: the provider PUTs straight into the bucket. A failed task's slots that the relay
  // could not fetch or confirm may leave uploads behind: reported, not counted as bad (each such slot
  // has a reason in failedSlots; the invariant above checks that).
  const leftByFailed = unrecorded.filter(
    (k) => stateOf.get(taskOfKey(obs.config.S3_KEY_PREFIX, k)) === 'failed',
  );
  const leftSet = new Set(leftByFailed);
  const stray = unrecorded.filter((k) => !leftSet.has(k));
  const listedKeys = new Set(listed.map((l) => l.key));

  const objects = await mapLimit(
    [...outputs.map(({ o }) => o.key), ...leftByFailed],
    HASH_CONCURRENCY,
    readObject(obs),
  );
  const recordedObjects = objects.slice(0, outputs.length);
  const providerShas = new Set([...byImage.values()].map((r) => r.sha256));
  add(
    'stored objects equal the provider results byte for byte (sha256)',
    [
      ...outputs.flatMap(({ o }, i) => {
        const want = byImage.get(o.imageUUID)?.sha256;
        const got = recordedObjects[i]!.sha256;
        return got === o.sha256 && got === want
          ? []
          : [`${o.key}: object ${got}, record ${o.sha256}, provider ${want}`];
      }),
      ...leftByFailed
        .filter((_k, i) => !providerShas.has(objects[outputs.length + i]!.sha256))
        .map((k) => `left-behind ${k} is no provider result`),
    ],
    `${objects.length} objects hashed`,
  );
  add(
    'every stored object carries its own metadata (taskuuid, imageuuid)',
    outputs.flatMap(({ task, o }, i) => {
      const m = recordedObjects[i]!.metadata;
      return m.taskuuid === task.taskUUID && m.imageuuid === o.imageUUID
        ? []
        : [`${o.key}: metadata ${JSON.stringify(m)}`];
    }),
    `${outputs.length} objects`,
  );
  add(
    'no duplicates: each image stored once, every object in the bucket is a recorded output',
    [
      ...[...seen].filter(([, n]) => n > 1).map(([img, n]) => `image ${img} stored ${n} times`),
      ...stray.map(
        (k) =>
          `unrecorded object ${k} (task ${stateOf.get(taskOfKey(obs.config.S3_KEY_PREFIX, k)) ?? 'unknown'})`,
      ),
      ...[...recordedKeys].filter((k) => !listedKeys.has(k)).map((k) => `recorded but missing ${k}`),
    ],
    `${listed.length} objects in the bucket${leftByFailed.length ? `, ${leftByFailed.length} of them left by failed tasks` : ''}`,
  );

  const counts = await obs.queue.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'prioritized',
    'waiting-children',
    'completed',
    'failed',
  );
  const stuck = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']
    .filter((k) => (counts[k] ?? 0) > 0)
    .map((k) => `${counts[k]} ${k}`);
  add('no job stuck (waiting/active/delayed/prioritized = 0)', stuck, 'none');
  add(
    'nothing in flight, the batch ended',
    [
      ...(status.inFlight === 0 ? [] : [`inFlight ${status.inFlight}`]),
      ...(status.queued === 0 ? [] : [`queued ${status.queued}`]),
      ...(status.finishedAt !== null ? [] : ['no finishedAt']),
    ],
    `state ${status.state}`,
  );
  add(
    'batch counters match the queue and the tasks',
    [
      // A partial task's job completes too, with the outputs it has.
      ...(status.completed + status.partial === counts.completed
        ? []
        : [`batch completed ${status.completed} + partial ${status.partial} ≠ jobs ${counts.completed}`]),
      ...(status.partial === partial.length
        ? []
        : [`batch partial ${status.partial} ≠ tasks ${partial.length}`]),
      ...(status.failed === counts.failed ? [] : [`batch failed ${status.failed} ≠ jobs ${counts.failed}`]),
      ...(status.completed === completed.length
        ? []
        : [`batch completed ${status.completed} ≠ tasks ${completed.length}`]),
      ...(status.failed === failed.length ? [] : [`batch failed ${status.failed} ≠ tasks ${failed.length}`]),
    ],
    `completed ${status.completed}, partial ${status.partial}, failed ${status.failed} (jobs: ${counts.completed}/${counts.failed})`,
  );

  return {
    rows,
    facts: {
      tasks: tasks.length,
      completed: completed.length,
      partial: partial.length,
      failed: failed.length,
      outputs: outputs.length,
      objects: listed.length,
      leftByFailedTasks: leftByFailed.length,
      providerResults: providerResults.filter((r) => !r.error).length,
      providerErrors: providerResults.filter((r) => r.error).length,
    },
  };
}

/** Print the rows as a table, then fail naming every broken invariant. */
export function expectInvariants(title: string, rows: readonly InvariantRow[]): void {
  printTable(
    title,
    rows.map((r) => ({ invariant: r.invariant, holds: r.holds ? 'yes' : 'NO', detail: r.detail })),
  );
  expect(
    rows.filter((r) => !r.holds).map((r) => `${r.invariant}: ${r.detail}`),
    'broken invariants',
  ).toEqual([]);
}

/** Slot retries and operator retries per task the invariant below maps back (derived provider UUIDs). */
const MAX_DERIVED_ATTEMPTS = 12;

/**
 * Every image the provider generated (the simulator's own record, the source of truth) is stored
 * exactly once, in the task it was generated for — partial tasks included — unless that task says
 * why not: a slot failed after the image was made (fetch or deadline), or the task was cancelled.
 */
function everySuccessStoredOnce(
  tasks: readonly TaskStatus[],
  providerResults: readonly GeneratedResult[],
): InvariantRow {
  const owner = new Map<string, TaskStatus>();
  for (const t of tasks) {
    const bases = [t.taskUUID];
    for (let n = 1; n <= MAX_DERIVED_ATTEMPTS; n++)
      bases.push(attemptProviderUuid(t.taskUUID, n), slotRetryProviderUuid(t.taskUUID, n));
    for (const b of bases) {
      owner.set(b, t);
      for (const sub of uploadSubtaskUuids(b, t.expected)) owner.set(sub, t);
    }
  }
  const storedIn = new Map<string, string[]>();
  for (const t of tasks)
    for (const o of t.outputs) storedIn.set(o.imageUUID, [...(storedIn.get(o.imageUUID) ?? []), t.taskUUID]);
  const unstoredPerTask = new Map<string, number>();
  const bad: string[] = [];
  const successes = providerResults.filter((r) => !r.error);
  for (const r of successes) {
    const t = owner.get(r.taskUUID);
    const where = storedIn.get(r.imageUUID) ?? [];
    if (!t) bad.push(`image ${r.imageUUID} generated for provider task ${r.taskUUID} of no task`);
    else if (where.length > 1) bad.push(`image ${r.imageUUID} stored ${where.length} times`);
    else if (where.length === 1 && where[0] !== t.taskUUID)
      bad.push(`image ${r.imageUUID} of task ${t.taskUUID} stored in task ${where[0]}`);
    else if (where.length === 0) unstoredPerTask.set(t.taskUUID, (unstoredPerTask.get(t.taskUUID) ?? 0) + 1);
  }
  for (const t of tasks) {
    const unstored = unstoredPerTask.get(t.taskUUID) ?? 0;
    if (unstored === 0 || t.state === 'cancelled') continue;
    const explained = t.failedSlots.filter((f) => f.stage !== 'provider').length;
    if (unstored > explained)
      bad.push(
        `task ${t.taskUUID} (${t.state}): ${unstored} generated image(s) not stored, ${explained} slot(s) say why`,
      );
  }
  return {
    invariant: 'every provider-successful image stored once (partial tasks included)',
    holds: bad.length === 0,
    detail:
      bad.length === 0
        ? `${successes.length} generated, ${successes.length - [...unstoredPerTask.values()].reduce((a, b) => a + b, 0)} stored`
        : `${bad.length} violation(s): ${bad.slice(0, SHOWN).join('; ')}`,
  };
}

function slotsComplete(t: TaskStatus): boolean {
  if (t.outputs.length !== t.expected) return false;
  return t.outputs.every((o, i) => o.slot === i);
}

/** `${prefix}${taskUUID}/${slot}.${ext}` → taskUUID */
function taskOfKey(prefix: string, key: string): string {
  return key.slice(prefix.length).split('/')[0] ?? '';
}

interface ReadObject {
  sha256: string;
  metadata: Record<string, string>;
}

function readObject(obs: RelayObserver) {
  return async (key: string): Promise<ReadObject> => {
    try {
      const [bytes, head] = await Promise.all([obs.store.get(key), obs.store.head(key)]);
      return { sha256: sha256(bytes), metadata: head?.metadata ?? {} };
    } catch (e) {
      return { sha256: `unreadable: ${(e as Error).message}`, metadata: {} };
    }
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
