// The express adapter for webhook ingest: raw body with a size limit, lossless JSON parse (seeds up to
// 2^63-1), content-type check. Errors become HTTP answers in http/error-to-http.ts.
import express, { type Express, type Request, type Response } from 'express';
import { JsonTooDeepError, parseLossless } from '../contract/index.js';
import { WebhookError } from '../errors.js';
import {
  type AuthenticatedCall,
  authenticateWebhook,
  type IngestDeps,
  ingestWebhook,
} from './ingest-webhook.js';
import { webhookSpan } from './webhook-span.js';

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
    // Only an authenticated call continues the task's trace (kr.webhook, webhook-span.ts).
    await webhookSpan(req.query, call.taskUUID, async () => {
      await handleWebhook(deps, call, req, res, started);
    });
  });
  app.all('/webhooks/runware/:taskUUID', (_req, res) => {
    res.status(405).set('allow', 'POST').json({ ok: false, code: 'METHOD_NOT_ALLOWED' });
  });
}

async function handleWebhook(
  deps: IngestDeps,
  call: AuthenticatedCall,
  req: Request,
  res: Response,
  started: number,
): Promise<void> {
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
