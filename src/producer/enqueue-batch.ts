// Batch enqueue in chunks (addBulk) without holding the batch in memory. With onInvalid 'reject' (the
// default) nothing is enqueued unless every entry is valid: the first pass validates and spools the
// normalised tasks to a temporary file, the second streams that file into the queue.
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
import { checkTenant } from './check-tenant.js';
import { prepareTask } from './prepare-task.js';

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

export interface BatchSummary {
  batchId: string;
  /** Tasks in the batch (valid entries, duplicates within the batch counted once). */
  total: number;
  enqueued: number;
  /** Entries whose taskUUID already exists outside this batch: left where they are, not added. */
  duplicates: number;
  skipped: InvalidEntry[];
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
    const skipped: InvalidEntry[] = [];
    const { enqueued, duplicates } = await addInChunks(
      add,
      batchId,
      chunkSize,
      validated(source, skipped),
      opts.onProgress,
    );
    const { total } = await ctx.batches.seal(batchId);
    return { batchId, total, enqueued, duplicates, skipped };
  }
  const dir = await mkdtemp(join(tmpdir(), 'kr-batch-'));
  try {
    const spool = join(dir, 'tasks.jsonl');
    const invalid = await spoolValid(source, spool);
    if (invalid.length > 0) throw new BatchValidationError(invalid);
    await ctx.batches.open({ batchId, budgetUsd: opts.budgetUsd, callbackUrl: opts.callbackUrl });
    const { enqueued, duplicates } = await addInChunks(
      add,
      batchId,
      chunkSize,
      readSpool(spool),
      opts.onProgress,
    );
    const { total } = await ctx.batches.seal(batchId);
    return { batchId, total, enqueued, duplicates, skipped: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function* entries(source: Iterable<unknown> | AsyncIterable<unknown>) {
  let index = 0;
  for await (const raw of source as AsyncIterable<unknown>) {
    const sourced = isSourced(raw) ? raw : undefined;
    yield { index: index++, line: sourced?.line, input: sourced ? sourced.task : raw };
  }
}

function isSourced(x: unknown): x is SourcedTask {
  return typeof x === 'object' && x !== null && 'line' in x && 'task' in x && Object.keys(x).length === 2;
}

function check(input: unknown): QueuedTask | FieldIssue[] {
  if (input instanceof MalformedEntry) return [{ path: '', rule: 'json', message: input.message }];
  try {
    return prepareTask(input);
  } catch (e) {
    if (e instanceof ValidationError) return [...e.issues];
    throw e;
  }
}

async function* validated(source: Iterable<unknown> | AsyncIterable<unknown>, skipped: InvalidEntry[]) {
  for await (const e of entries(source)) {
    const r = check(e.input);
    if (Array.isArray(r)) skipped.push({ index: e.index, ...(e.line ? { line: e.line } : {}), issues: r });
    else yield { index: e.index, task: r };
  }
}

async function spoolValid(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  path: string,
): Promise<InvalidEntry[]> {
  const out = createWriteStream(path);
  const invalid: InvalidEntry[] = [];
  for await (const e of entries(source)) {
    const r = check(e.input);
    if (Array.isArray(r)) invalid.push({ index: e.index, ...(e.line ? { line: e.line } : {}), issues: r });
    else if (invalid.length === 0 && !out.write(`${e.index}\t${JSON.stringify(r)}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return invalid;
}

async function* readSpool(path: string) {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    const tab = line.indexOf('\t');
    yield { index: Number(line.slice(0, tab)), task: JSON.parse(line.slice(tab + 1)) as QueuedTask };
  }
}

async function addInChunks(
  ctx: Ctx & { lane: Lane; tenant: string | undefined },
  batchId: string,
  chunkSize: number,
  tasks: AsyncIterable<{ index: number; task: QueuedTask }>,
  onProgress?: (n: number) => void,
): Promise<{ enqueued: number; duplicates: number }> {
  let enqueued = 0;
  let duplicates = 0;
  const flush = async (chunk: { index: number; task: QueuedTask }[]) => {
    const now = Date.now();
    const fresh = await withoutForeignTasks(ctx, batchId, chunk);
    duplicates += chunk.length - fresh.length;
    // Batch membership first: a job may finish before this returns, and its batch must know it.
    await ctx.batches.addTasks(
      batchId,
      fresh.map((c) => ({ index: c.index, taskUUID: c.task.taskUUID })),
    );
    await ctx.queue.addBulk(
      fresh.map((c) => ({
        name: JOB_NAME,
        data: { task: c.task, batchId, enqueuedAt: now, ...(ctx.tenant ? { tenant: ctx.tenant } : {}) },
        opts: taskJobOptions(c.task.taskUUID, ctx.attempts, ctx.lane),
      })),
    );
    enqueued += fresh.length;
    onProgress?.(enqueued + duplicates);
  };
  // One chunk is written to Redis while the next is read and validated: Node's CPU and Redis's
  // overlap instead of taking turns. Chunks still reach Redis one at a time, in order.
  let writing: Promise<void> = Promise.resolve();
  let chunk: { index: number; task: QueuedTask }[] = [];
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
  return { enqueued, duplicates };
}

/**
 * Drops tasks that already exist (as a job or a task record) outside this batch: BullMQ would
 * ignore them silently and the batch would wait for them forever. Tasks already in this very batch
 * stay, so re-running an interrupted batch resumes it.
 */
async function withoutForeignTasks<T extends { task: QueuedTask }>(
  ctx: Ctx,
  batchId: string,
  chunk: T[],
): Promise<T[]> {
  const multi = ctx.redis.multi();
  for (const c of chunk) {
    multi.hget(ctx.queue.toKey(c.task.taskUUID), 'data');
    multi.hget(ctx.batches.keys.task(c.task.taskUUID), 'batchId');
  }
  const res = (await multi.exec()) ?? [];
  return chunk.filter((_, i) => {
    const jobData = res[2 * i]?.[1] as string | null | undefined;
    const recordBatch = res[2 * i + 1]?.[1] as string | null | undefined;
    if (recordBatch !== null && recordBatch !== undefined) return recordBatch === batchId;
    if (jobData === null || jobData === undefined) return true;
    return (JSON.parse(jobData) as { batchId?: string }).batchId === batchId;
  });
}
