// Batch enqueue in chunks (addBulk) without holding the batch in memory. With onInvalid 'reject' (the
// default) nothing is enqueued unless every entry is valid: the first pass validates and spools the
// normalised tasks to a temporary file, the second streams that file into the queue.
// An entry without a taskUUID gets one derived from (batch, position, task), so enqueueing the same
// entries into the same batch again adds nothing (README "Re-runs"). Two entries with one taskUUID
// are invalid; a task that already lives elsewhere is skipped and reported, never silently dropped.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BatchValidationError, type FieldIssue, ValidationError } from '../errors.js';
import type { BatchStore } from '../tasks/batch-store.js';
import { JOB_NAME, type QueuedTask } from '../tasks/job-data.js';
import { type Lane, taskJobOptions } from '../tasks/job-options.js';
import type { TaskQueue } from '../tasks/queue.js';
import type { RedisClient } from '../tasks/task-store.js';
import { startTaskTrace, taskAttributes } from '../tracing/spans.js';
import { checkTenant } from './check-tenant.js';
import { classifyExisting } from './classify-existing.js';
import { prepareBatchTask } from './prepare-task.js';

export const DEFAULT_CHUNK_SIZE = 1000;

/** A batch entry: the task, or `{task, line}` when it came from a file (errors then name the line). */
export interface SourcedTask {
  task: unknown;
  line: number;
}

/** An entry that could not even be parsed (e.g. a JSONL line that is not JSON). */
export class MalformedEntry {
  constructor(readonly message: string) {}
}

export interface BatchOptions {
  /** Give it to make a re-run a no-op: entries without a taskUUID get one derived from it (default: random). */
  batchId?: string;
  chunkSize?: number;
  /** 'reject' (default): any invalid entry rejects the whole batch. 'skip': enqueue the valid ones. */
  onInvalid?: 'reject' | 'skip';
  budgetUsd?: number;
  callbackUrl?: string;
  /** Called after every chunk with the number of tasks enqueued so far. */
  onProgress?: (enqueued: number) => void;
  /** Priority lane (issue 6); batches default to 'bulk', behind every interactive task. */
  lane?: Lane;
  /** Fair-share tenant of every task (issue 14); default: the batch id. */
  tenant?: string;
}

export interface InvalidEntry {
  index: number;
  line?: number;
  issues: readonly FieldIssue[];
}

/**
 * An entry this run did not add. INVALID: it broke the contract (only with onInvalid 'skip').
 * TASK_EXISTS: its taskUUID already belongs to another batch (`existingBatchId`), or to a task
 * enqueued on its own (`existingBatchId` null); that task is left as it is.
 */
export type SkippedEntry = InvalidEntry &
  ({ reason: 'INVALID' } | { reason: 'TASK_EXISTS'; existingBatchId: string | null });

export interface BatchSummary {
  batchId: string;
  /** Tasks in the batch now, counting those an earlier run added. */
  total: number;
  /** Tasks this run added. */
  enqueued: number;
  /** Entries already in this batch (an earlier run added them): nothing added, nothing billed again. */
  alreadyInBatch: number;
  /** Entries skipped because their taskUUID exists outside this batch (the TASK_EXISTS entries of `skipped`). */
  duplicates: number;
  skipped: SkippedEntry[];
}

interface Ctx {
  redis: RedisClient;
  queue: TaskQueue;
  batches: BatchStore;
  attempts: number;
}

/** The lane a batch runs in when the caller names none (issue 6). */
export const DEFAULT_BATCH_LANE: Lane = 'bulk';

export async function enqueueBatch(
  ctx: Ctx,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  opts: BatchOptions,
): Promise<BatchSummary> {
  const batchId = opts.batchId ?? randomUUID();
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const add = {
    ...ctx,
    lane: opts.lane ?? DEFAULT_BATCH_LANE,
    tenant: opts.tenant && checkTenant(opts.tenant),
  };
  if (opts.onInvalid === 'skip') {
    await ctx.batches.open({ batchId, budgetUsd: opts.budgetUsd, callbackUrl: opts.callbackUrl });
    const skipped: SkippedEntry[] = [];
    const added = await addInChunks(
      add,
      batchId,
      chunkSize,
      validated(source, batchId, skipped),
      skipped,
      opts.onProgress,
    );
    const { total } = await ctx.batches.seal(batchId);
    return { batchId, total, ...added, skipped: skipped.sort((a, b) => a.index - b.index) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'kr-batch-'));
  try {
    const spool = join(dir, 'tasks.jsonl');
    const invalid = await spoolValid(source, batchId, spool);
    if (invalid.length > 0) throw new BatchValidationError(invalid);
    await ctx.batches.open({ batchId, budgetUsd: opts.budgetUsd, callbackUrl: opts.callbackUrl });
    const skipped: SkippedEntry[] = [];
    const added = await addInChunks(add, batchId, chunkSize, readSpool(spool), skipped, opts.onProgress);
    const { total } = await ctx.batches.seal(batchId);
    return { batchId, total, ...added, skipped: skipped.sort((a, b) => a.index - b.index) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Entry {
  index: number;
  line: number | undefined;
  input: unknown;
}

async function* entries(source: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<Entry> {
  let index = 0;
  for await (const raw of source as AsyncIterable<unknown>) {
    const sourced = isSourced(raw) ? raw : undefined;
    yield { index: index++, line: sourced?.line, input: sourced ? sourced.task : raw };
  }
}

function isSourced(x: unknown): x is SourcedTask {
  return typeof x === 'object' && x !== null && 'line' in x && 'task' in x && Object.keys(x).length === 2;
}

/**
 * Validates each entry and gives it its taskUUID. A taskUUID seen on an earlier entry of the same
 * source makes the later entry invalid, naming both places (the set of seen UUIDs is the only
 * per-task state held in memory: about 100 bytes a task).
 */
function checker(batchId: string) {
  const seen = new Map<string, Entry>();
  const where = (e: Entry) => (e.line ? `line ${e.line}` : `entry #${e.index}`);
  return (e: Entry): QueuedTask | FieldIssue[] => {
    if (e.input instanceof MalformedEntry) return [{ path: '', rule: 'json', message: e.input.message }];
    let task: QueuedTask;
    try {
      task = prepareBatchTask(e.input, batchId, e.line ?? e.index);
    } catch (err) {
      if (err instanceof ValidationError) return [...err.issues];
      throw err;
    }
    const first = seen.get(task.taskUUID);
    if (first) {
      return [
        {
          path: 'taskUUID',
          rule: 'duplicate',
          message: `taskUUID ${task.taskUUID} is on ${where(first)} and ${where(e)}: one task per taskUUID`,
        },
      ];
    }
    seen.set(task.taskUUID, { index: e.index, line: e.line, input: undefined });
    return task;
  };
}

function invalidEntry(e: Entry, issues: FieldIssue[]): InvalidEntry {
  return { index: e.index, ...(e.line ? { line: e.line } : {}), issues };
}

async function* validated(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  batchId: string,
  skipped: SkippedEntry[],
) {
  const check = checker(batchId);
  for await (const e of entries(source)) {
    const r = check(e);
    if (Array.isArray(r)) skipped.push({ ...invalidEntry(e, r), reason: 'INVALID' });
    else yield { index: e.index, line: e.line, task: r };
  }
}

async function spoolValid(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  batchId: string,
  path: string,
): Promise<InvalidEntry[]> {
  const out = createWriteStream(path);
  const invalid: InvalidEntry[] = [];
  const check = checker(batchId);
  for await (const e of entries(source)) {
    const r = check(e);
    if (Array.isArray(r)) invalid.push(invalidEntry(e, r));
    else if (invalid.length === 0 && !out.write(`${e.index}\t${e.line ?? 0}\t${JSON.stringify(r)}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return invalid;
}

async function* readSpool(path: string): AsyncGenerator<Valid> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of rl) {
    const [index, line] = text.split('\t', 2).map(Number) as [number, number];
    const task = JSON.parse(text.slice(text.indexOf('\t', text.indexOf('\t') + 1) + 1)) as QueuedTask;
    yield { index, line: line || undefined, task };
  }
}

interface Valid {
  index: number;
  line: number | undefined;
  task: QueuedTask;
}

interface Added {
  enqueued: number;
  alreadyInBatch: number;
  duplicates: number;
}

async function addInChunks(
  ctx: Ctx & { lane: Lane; tenant: string | undefined },
  batchId: string,
  chunkSize: number,
  tasks: AsyncIterable<Valid>,
  skipped: SkippedEntry[],
  onProgress?: (n: number) => void,
): Promise<Added> {
  const n: Added = { enqueued: 0, alreadyInBatch: 0, duplicates: 0 };
  let reopened = false;
  const flush = async (chunk: Valid[]) => {
    const now = Date.now();
    const existing = await classifyExisting(ctx, batchId, chunk);
    const fresh: Valid[] = [];
    for (const [i, c] of chunk.entries()) {
      const x = existing[i]!;
      if (x.kind === 'new') fresh.push(c);
      else if (x.kind === 'in-batch') n.alreadyInBatch++;
      else {
        n.duplicates++;
        skipped.push({
          index: c.index,
          ...(c.line ? { line: c.line } : {}),
          reason: 'TASK_EXISTS',
          existingBatchId: x.batchId,
          issues: [
            {
              path: 'taskUUID',
              rule: 'exists',
              message: x.batchId
                ? `taskUUID ${c.task.taskUUID} already belongs to batch ${x.batchId}`
                : `taskUUID ${c.task.taskUUID} was already enqueued on its own`,
            },
          ],
        });
      }
    }
    // A re-run that adds tasks to a batch an earlier run sealed (or that already ended) reopens it.
    if (fresh.length > 0 && !reopened) {
      await ctx.batches.reopen(batchId);
      reopened = true;
    }
    // Batch membership first: a job may finish before this returns, and its batch must know it.
    await ctx.batches.addTasks(
      batchId,
      fresh.map((c) => ({ index: c.index, taskUUID: c.task.taskUUID })),
    );
    await ctx.queue.addBulk(
      fresh.map((c) => {
        const trace = startTaskTrace(taskAttributes(c.task.taskUUID, batchId)); // undefined when off
        return {
          name: JOB_NAME,
          data: {
            task: c.task,
            batchId,
            enqueuedAt: now,
            ...(ctx.tenant ? { tenant: ctx.tenant } : {}),
            ...(trace ? { trace } : {}),
          },
          opts: taskJobOptions(c.task.taskUUID, ctx.attempts, ctx.lane),
        };
      }),
    );
    n.enqueued += fresh.length;
    onProgress?.(n.enqueued + n.alreadyInBatch + n.duplicates);
  };
  // One chunk is written to Redis while the next is read and validated: Node's CPU and Redis's
  // overlap instead of taking turns. Chunks still reach Redis one at a time, in order.
  let writing: Promise<void> = Promise.resolve();
  let chunk: Valid[] = [];
  for await (const t of tasks) {
    chunk.push(t);
    if (chunk.length < chunkSize) continue;
    await writing;
    writing = flush(chunk);
    writing.catch(() => undefined); // surfaced by the next await
    chunk = [];
  }
  await writing;
  if (chunk.length > 0) await flush(chunk);
  return n;
}
