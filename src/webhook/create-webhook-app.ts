// The express adapter for webhook ingest: raw body with a size limit, lossless JSON parse (seeds up to
// 2^63-1), content-type check, and one place that turns errors into HTTP statuses.
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { JsonTooDeepError, parseLossless } from '../contract/index.js';
import { RelayError, WebhookError } from '../errors.js';
import { authenticateWebhook, type IngestDeps, ingestWebhook } from './ingest-webhook.js';

/** Content types the provider may plausibly use for a JSON body (the header is unconfirmed). */
const ACCEPTED_TYPES = /^(application\/(json|[\w.+-]+\+json)|text\/plain)\b/i;

export interface WebhookAppOptions {
  bodyLimitBytes: number;
}

export function mountWebhookRoutes(app: Express, deps: IngestDeps, opts: WebhookAppOptions): void {
  const raw = express.text({ type: () => true, limit: opts.bodyLimitBytes, defaultCharset: 'utf-8' });
  app.post('/webhooks/runware/:taskUUID', raw, async (req: Request, res: Response) => {
    const started = performance.now();
    const call = authenticateWebhook(
      deps.secrets,
      String(req.params.taskUUID),
      req.query.token,
      req.query.exp,
      deps.metrics,
    );
    const type = req.headers['content-type'];
    if (type !== undefined && !ACCEPTED_TYPES.test(type)) {
      throw new WebhookError('WEBHOOK_CONTENT_TYPE', 415, `content type ${type} is not JSON`);
    }
    let body: unknown;
    try {
      body = parseLossless(typeof req.body === 'string' ? req.body : '');
    } catch (e) {
      // SyntaxError from JSON.parse, or JsonTooDeepError: either way the sender's body, not our fault.
      const reason = e instanceof JsonTooDeepError ? e.message : 'body is not valid JSON';
      deps.logger.warn({ taskUUID: call.taskUUID, reason }, 'webhook body refused');
      throw new WebhookError('WEBHOOK_BAD_JSON', 400, reason);
    }
    const result = await ingestWebhook(deps, call, body);
    answerJson(res, 200, { ok: true, ...result });
    deps.metrics.webhookAckLatency.observe((performance.now() - started) / 1000);
  });
  app.all('/webhooks/runware/:taskUUID', (_req, res) => {
    res.status(405).set('allow', 'POST').json({ ok: false, code: 'METHOD_NOT_ALLOWED' });
  });
}

/**
 * The webhook's answer, written directly: res.json would also hash the body for an ETag (a webhook
 * sender never revalidates) and look up the content type on every call — a measurable share of this
 * route's CPU at a thousand requests a second.
 */
function answerJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The one place an error becomes an HTTP status. */
export const errorToHttp: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const e = err as { status?: number; type?: string; message?: string };
  let status = 500;
  let code = 'INTERNAL';
  if (err instanceof WebhookError) {
    status = err.status;
    code = err.code;
  } else if (e.type === 'entity.too.large') {
    status = 413;
    code = 'BODY_TOO_LARGE';
  } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    status = e.status;
    code = err instanceof RelayError ? err.code : (e.type ?? 'BAD_REQUEST');
  } else if (err instanceof RelayError) code = err.code;
  if (!res.headersSent)
    res.status(status).json({ ok: false, code, message: status === 500 ? 'internal error' : e.message });
};
