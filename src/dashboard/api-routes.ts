// The dashboard's JSON API, thin over the status readers and the operator actions. The page uses it;
// so can scripts. Every route here sits behind the dashboard's auth; POSTs also need the action header,
// and act only for the operator (requireOperator), each leaving one audit entry.
import express, { type Request, type Response, type Router } from 'express';
import {
  cancelBatchAction,
  resumeQueueAction,
  retryFailedAction,
  setBudgetAction,
} from '../control/operator-actions.js';
import { readTaskStatus } from '../status/read-status.js';
import type { DashboardContext } from './dashboard-context.js';
import { findBatchTasks } from './find-batch-tasks.js';
import { dueTimes } from './overdue-tasks.js';
import { listBatches, readBatchView, readQueueSummary } from './read-batch-view.js';
import { accessOf, requireOperator } from './require-operator.js';
import { parseListQuery, parseTaskQuery, type QueryResult } from './task-query.js';

/** A budget body is one small JSON object. */
const BUDGET_BODY_LIMIT = '1kb';

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

  router.post('/api/batches/:batchId/retry-failed', requireOperator, async (req, res) => {
    const batchId = String(req.params.batchId);
    if (!(await ctx.batches.get(batchId))) return notFound(res, `batch ${batchId}`);
    const r = await retryFailedAction(ctx, accessOf(res).actor, batchId, {
      firstPollAfterMs: ctx.config.FIRST_POLL_AFTER_MS,
      resultDeadlineMs: ctx.config.RESULT_DEADLINE_MS,
    });
    ctx.logger.info(
      { batchId, retried: r.retried, billedImages: r.billedImages, unavailable: r.unavailable.length },
      'dashboard: retry failed',
    );
    res.json({ ok: true, ...r });
  });

  router.post('/api/batches/:batchId/cancel', requireOperator, async (req, res) => {
    const batchId = String(req.params.batchId);
    if (!(await ctx.batches.get(batchId))) return notFound(res, `batch ${batchId}`);
    const r = await cancelBatchAction(ctx, accessOf(res).actor, batchId);
    ctx.logger.info({ batchId, ...r }, 'dashboard: batch cancelled');
    res.json({ ok: true, ...r, billedNote: 'tasks already submitted are still billed by the provider' });
  });

  router.post('/api/queue/resume', requireOperator, async (_req: Request, res: Response) => {
    const { wasPausedFor } = await resumeQueueAction(ctx, accessOf(res).actor);
    ctx.logger.info({ pausedReason: wasPausedFor }, 'dashboard: queue resumed');
    res.json({ ok: true, wasPausedFor });
  });

  router.post(
    '/api/batches/:batchId/budget',
    requireOperator,
    express.json({ limit: BUDGET_BODY_LIMIT }),
    async (req, res) => {
      const batchId = String(req.params.batchId);
      const usd = (req.body as { usd?: unknown } | undefined)?.usd;
      if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
        res
          .status(400)
          .json({ ok: false, code: 'BAD_BUDGET', message: 'send {"usd": <non-negative number>}' });
        return;
      }
      if (!(await ctx.batches.get(batchId))) return notFound(res, `batch ${batchId}`);
      // A BudgetInputError answers 400 BUDGET_INVALID through http/error-to-http.ts.
      const change = await setBudgetAction(ctx, accessOf(res).actor, batchId, usd);
      ctx.logger.info(change, 'dashboard: budget set');
      res.json({ ok: true, ...change });
    },
  );
}

function parsed<T>(res: Response, r: QueryResult<T>): T | undefined {
  if (r.ok) return r.value;
  res.status(400).json({ ok: false, code: 'BAD_QUERY', message: r.message });
  return undefined;
}

function notFound(res: Response, what: string): void {
  res.status(404).json({ ok: false, code: 'NOT_FOUND', message: `${what} not found` });
}
