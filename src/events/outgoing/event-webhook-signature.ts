// Signing and verifying event webhooks per the Standard Webhooks spec (webhook-id, webhook-timestamp,
// webhook-signature = v1,base64(HMAC-SHA256(whsec secret, "id.timestamp.body"))), by the
// `standardwebhooks` library itself, so receivers can verify with any Standard Webhooks implementation.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { EventWebhookVerificationError } from '../event-errors.js';
import type { EventWebhookBody } from './webhook-body.js';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Headers for one attempt: the timestamp is the attempt's, the id is the event's (stable). With several
 * secrets (a rotation's overlap: EVENTS_WEBHOOK_SECRET and EVENTS_WEBHOOK_SECRET_PREVIOUS) the header
 * carries one space-separated `v1,` signature per secret, which the spec allows: a receiver holding
 * either secret verifies.
 */
export function signEventWebhook(
  secrets: string | readonly string[],
  webhookId: string,
  body: string,
  at = new Date(),
): SignedHeaders {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': list.map((s) => new Webhook(s).sign(webhookId, at, body)).join(' '),
  };
}

/** Headers as Node, fetch or a plain object hold them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/**
 * Verify an event webhook (raw body exactly as received) and return its parsed body. Throws
 * EventWebhookVerificationError when a header is missing, the signature does not match, or the
 * timestamp is outside the library's tolerance (5 minutes).
 */
export function verifyEventWebhook(
  secret: string,
  headers: HeaderSource,
  rawBody: string | Buffer,
): EventWebhookBody {
  const get = (name: string) => {
    const v = headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()]);
    return Array.isArray(v) ? v[0] : (v ?? undefined);
  };
  const h = {
    'webhook-id': get('webhook-id') ?? '',
    'webhook-timestamp': get('webhook-timestamp') ?? '',
    'webhook-signature': get('webhook-signature') ?? '',
  };
  try {
    return new Webhook(secret).verify(rawBody, h) as EventWebhookBody;
  } catch (e) {
    if (e instanceof WebhookVerificationError)
      throw new EventWebhookVerificationError(e.message, { cause: e });
    throw new EventWebhookVerificationError(`cannot verify: ${(e as Error).message}`, { cause: e });
  }
}

/** Throws when `secret` is not a usable `whsec_` secret (checked at start-up, not at first send). */
export function checkWebhookSecret(secret: string): void {
  if (!secret.startsWith('whsec_')) throw new Error('event webhook secret must start with whsec_');
  new Webhook(secret);
}
