// Per-task capability tokens for webhook URLs: HMAC-SHA256 over "taskUUID.expiry" under WEBHOOK_SECRET.
// The provider signs nothing, so the URL itself is the credential (shared contract §5.1). Verification
// is constant-time and a token is valid for one taskUUID only, until its expiry. During a rotation the
// verifier holds [current, previous]: a token signed with either is accepted; new tokens use the current.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenCheck = 'ok' | 'missing' | 'malformed' | 'expired' | 'mismatch';

export function signWebhookToken(secret: string, taskUUID: string, expiresAtSec: number): string {
  return createHmac('sha256', secret).update(`${taskUUID}.${expiresAtSec}`).digest('base64url');
}

/** `secrets`: one secret, or the current one and the previous (WEBHOOK_SECRET_PREVIOUS) during a rotation. */
export function verifyWebhookToken(
  secrets: string | readonly string[],
  taskUUID: string,
  token: unknown,
  expiresAtSec: unknown,
  nowSec = Math.floor(Date.now() / 1000),
): TokenCheck {
  if (token === undefined || expiresAtSec === undefined) return 'missing';
  if (typeof token !== 'string' || typeof expiresAtSec !== 'string' || !/^\d{1,12}$/.test(expiresAtSec)) {
    return 'malformed';
  }
  const given = Buffer.from(token);
  // Compare with every secret (no early exit), then look at expiry, so timing says nothing about
  // which check failed or which secret matched.
  let same = false;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const expected = Buffer.from(signWebhookToken(secret, taskUUID, Number(expiresAtSec)));
    if (given.length === expected.length && timingSafeEqual(given, expected)) same = true;
  }
  if (!same) return 'mismatch';
  return Number(expiresAtSec) < nowSec ? 'expired' : 'ok';
}

/**
 * The task's trace, carried in the webhook URL so the webhook server continues it without a Redis read:
 * `tp` (W3C traceparent), `tb` (batch id), `ta` (attempt). Not covered by the token: they only label
 * spans, and the route reads them after the token has authenticated the call (README "Tracing").
 */
export interface WebhookTrace {
  traceparent: string;
  batchId?: string | undefined;
  attempt?: number | undefined;
}

/** The webhook URL handed to the provider for one provider task. */
export function webhookUrlFor(
  publicUrl: string,
  secret: string,
  taskUUID: string,
  expiresAtSec: number,
  trace?: WebhookTrace,
): string {
  const base = publicUrl.replace(/\/+$/, '');
  const token = signWebhookToken(secret, taskUUID, expiresAtSec);
  const url = `${base}/webhooks/runware/${taskUUID}?exp=${expiresAtSec}&token=${token}`;
  if (!trace) return url;
  const q = new URLSearchParams({ tp: trace.traceparent });
  if (trace.batchId) q.set('tb', trace.batchId);
  if (trace.attempt !== undefined) q.set('ta', String(trace.attempt));
  return `${url}&${q.toString()}`;
}
