// The dashboard's JSON API, thin over the status readers and the operator actions. The page uses it;
// so can scripts. Every route here sits behind the dashboard's auth; POSTs also need the action header.
import type { Request, Response, Router } from 'express';
import { cancelBatch } from '../control/cancel-batch.js';
import { retryFailedTasks } from '../control/retry-failed.js';
import { readTaskStatus } from '../status/read-status.js';
import type { DashboardContext } from './dashboard-context.js';
import { findBatchTasks } from './find-batch-tasks.js';
import { dueTimes } from './overdue-tasks.js';
import { listBatches, readBatchView, readQueueSummary } from './read-batch-view.js';
import { parseListQuery, parseTaskQuery, type QueryResult } from './task-query.js';

export function mountApiRoutes(router: Router, ctx: DashboardContext): void {
  router.get('/api/queue', async (_req, res) => {
    res.json(await readQueueSummary(ctx));
  });

  router.get('/api/batches', async (req, res) => {
    const q = parsed(res, parseListQuery(req.query));
    if (!q) return;
    const [batches, queue] = await Promise.all([listBatches(ctx, q.offset, q.limit), readQueueSummary(ctx)]);
    const next = batches.length === q.limit ? q.offset + q.limit : null;
    res.json({ batches, queue, offset: q.offset, next });
  });

  router.get('/api/batches/:batchId', async (req, res) => {
    const q = parsed(res, parseTaskQuery(req.query));
    if (!q) return;
    const batchId = String(req.params.batchId);
    const batch = await readBatchView(ctx, batchId);
    if (!batch) return notFound(res, `batch ${batchId}`);
    const page = await findBatchTasks(ctx, batchId, q);
    res.json({ batch, ...page });
  });

  router.get('/api/tasks/:taskUUID', async (req, res) => {
    const taskUUID = String(req.params.taskUUID);
    const [task, [dueAt = null]] = await Promise.all([
      readTaskStatus(ctx, taskUUID),
      dueTimes(ctx, [taskUUID]),
    ]);
    if (!task) return notFound(res, `task ${taskUUID}`);
    res.json({ ...task, dueAt, overdue: dueAt !== null && dueAt < Date.now() });
  });

  router.post('/api/batches/:batchId/retry-failed', async (req, res) => {
    const batchId = String(req.params.batchId);
    if (!(await ctx.batches.get(batchId))) return notFound(res, `batch ${batchId}`);
    const r = await retryFailedTasks(ctx, batchId, {
      firstPollAfterMs: ctx.config.FIRST_POLL_AFTER_MS,
      resultDeadlineMs: ctx.config.RESULT_DEADLINE_MS,
    });
    ctx.logger.info(
      { batchId, retried: r.retried, billedImages: r.billedImages, unavailable: r.unavailable.length },
      'dashboard: retry failed',
    );
    res.json({ ok: true, ...r });
  });

  router.post('/api/batches/:batchId/cancel', async (req, res) => {
    const batchId = String(req.params.batchId);
    if (!(await ctx.batches.get(batchId))) return notFound(res, `batch ${batchId}`);
    const r = await cancelBatch(ctx, batchId);
    ctx.logger.info({ batchId, ...r }, 'dashboard: batch cancelled');
    res.json({ ok: true, ...r, billedNote: 'tasks already submitted are still billed by the provider' });
  });

  router.post('/api/queue/resume', async (_req: Request, res: Response) => {
    const reason = await ctx.tasks.queuePausedReason();
    await ctx.queue.resume();
    await ctx.tasks.setQueuePausedReason(null);
    ctx.logger.info({ pausedReason: reason }, 'dashboard: queue resumed');
    res.json({ ok: true, wasPausedFor: reason });
  });
}

function parsed<T>(res: Response, r: QueryResult<T>): T | undefined {
  if (r.ok) return r.value;
  res.status(400).json({ ok: false, code: 'BAD_QUERY', message: r.message });
  return undefined;
}

function notFound(res: Response, what: string): void {
  res.status(404).json({ ok: false, code: 'NOT_FOUND', message: `${what} not found` });
}
