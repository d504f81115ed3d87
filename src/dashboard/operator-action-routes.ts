// The operator's actions of issue 15, each one POST under /api (behind the dashboard's auth and the
// action header, like the batch actions): retry or cancel one task, re-enable an event endpoint, and
// replay an endpoint's events from a cursor with their original webhook-ids.
import type { Request, Response, Router } from 'express';
import { recordOperatorAction } from '../control/audit-trail.js';
import { cancelTask } from '../control/cancel-task.js';
import { retryRecord } from '../control/retry-failed.js';
import { RelayError } from '../errors.js';
import { EventKeys } from '../events/event-keys.js';
import { replayDeliveries } from '../events/outgoing/replay-deliveries.js';
import type { DashboardContext } from './dashboard-context.js';
import { deliveryLogOf } from './read-deliveries.js';
import { accessOf, requireOperator } from './require-operator.js';

type Handler = (req: Request, res: Response) => Promise<void>;

export function mountOperatorActionRoutes(router: Router, ctx: DashboardContext): void {
  router.post('/api/tasks/:taskUUID/retry', requireOperator, retryOne(ctx));
  router.post('/api/tasks/:taskUUID/cancel', requireOperator, cancelOne(ctx));
  router.post('/api/endpoints/enable', requireOperator, enableEndpoint(ctx));
  router.post('/api/deliveries/replay', requireOperator, replayEndpoint(ctx));
}

function retryOne(ctx: DashboardContext): Handler {
  return async (req, res) => {
    const taskUUID = String(req.params.taskUUID);
    const rec = await ctx.tasks.get(taskUUID);
    const ok =
      rec !== null &&
      (await retryRecord(ctx, rec, {
        firstPollAfterMs: ctx.config.FIRST_POLL_AFTER_MS,
        resultDeadlineMs: ctx.config.RESULT_DEADLINE_MS,
      }));
    ctx.logger.info({ taskUUID, retried: ok }, 'dashboard: retry task');
    if (ok)
      await recordOperatorAction(ctx, {
        actor: accessOf(res).actor,
        action: 'retry-task',
        batchId: rec.batchId,
        taskUUIDs: [taskUUID],
        // A failed task runs again whole; a partial one only for its missing slots (at most this many).
        mayBillImages: rec.expected,
        detail: { state: rec.state },
      });
    if (!ok)
      return conflict(res, 'NOT_RETRIABLE', 'only a failed task whose job still exists can be retried');
    res.json({ ok: true, message: 'Task retried: a new provider task, billed again.' });
  };
}

function cancelOne(ctx: DashboardContext): Handler {
  return async (req, res) => {
    const taskUUID = String(req.params.taskUUID);
    const outcome = await cancelTask(ctx, taskUUID);
    ctx.logger.info({ taskUUID, outcome }, 'dashboard: cancel task');
    if (outcome !== 'notFound' && outcome !== 'alreadyEnded')
      await recordOperatorAction(ctx, {
        actor: accessOf(res).actor,
        action: 'cancel-task',
        taskUUIDs: [taskUUID],
        mayBillImages: 0,
        detail: { outcome },
      });
    if (outcome === 'notFound') {
      res.status(404).json({ ok: false, code: 'NOT_FOUND', message: `task ${taskUUID} not found` });
      return;
    }
    if (outcome === 'alreadyEnded') return conflict(res, 'ALREADY_ENDED', 'the task has already ended');
    const message =
      outcome === 'removed'
        ? 'Cancelled: removed from the queue, never submitted.'
        : 'Cancelled: it was already submitted, so the provider still bills it; its late results are discarded.';
    res.json({ ok: true, outcome, message });
  };
}

function enableEndpoint(ctx: DashboardContext): Handler {
  return async (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : '';
    if (!url) return badRequest(res, 'give ?url=');
    const was = await deliveryLogOf(ctx).enable(url);
    ctx.logger.info({ url, wasDisabled: was }, 'dashboard: endpoint re-enabled');
    await recordOperatorAction(ctx, {
      actor: accessOf(res).actor,
      action: 'enable-endpoint',
      tasks: 0,
      mayBillImages: 0,
      detail: { url, wasDisabled: was },
    });
    res.json({
      ok: true,
      wasDisabled: was,
      message: was ? `${url} re-enabled.` : `${url} was not disabled.`,
    });
  };
}

function replayEndpoint(ctx: DashboardContext): Handler {
  return async (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : '';
    const from = typeof req.query.from === 'string' ? req.query.from.trim() : '';
    if (!url || !from) return badRequest(res, 'give ?url= and ?from= (an event id or a time)');
    if (await deliveryLogOf(ctx).isDisabled(url))
      return conflict(res, 'ENDPOINT_DISABLED', 're-enable the endpoint first');
    try {
      const r = await replayDeliveries(ctx, new EventKeys(ctx.tasks.keys), {
        url,
        from,
        serviceUrl: ctx.config.EVENTS_WEBHOOK_URL,
      });
      ctx.logger.info({ url, ...r }, 'dashboard: events replayed');
      await recordOperatorAction(ctx, {
        actor: accessOf(res).actor,
        action: 'replay-events',
        tasks: 0,
        mayBillImages: 0,
        detail: { url, from, ...r },
      });
      res.json({
        ok: true,
        ...r,
        message: `${r.scheduled} event(s) scheduled again from ${r.fromId}${r.alreadyPending ? ` (${r.alreadyPending} already pending)` : ''}.`,
      });
    } catch (e) {
      if (e instanceof RelayError) return badRequest(res, e.message);
      throw e;
    }
  };
}

function badRequest(res: Response, message: string): void {
  res.status(400).json({ ok: false, code: 'BAD_REQUEST', message });
}

function conflict(res: Response, code: string, message: string): void {
  res.status(409).json({ ok: false, code, message });
}
