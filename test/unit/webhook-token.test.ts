import { describe, expect, it } from 'vitest';
import { signWebhookToken, verifyWebhookToken, webhookUrlFor } from '../../src/tokens/webhook-token.js';

const secret = 'a-very-secret-webhook-key';
const uuid = '3b0c2f5e-6a9d-4a51-9d0e-2f7f1c9a2b11';
const other = '9f1c3a52-2b7e-4c0e-8f3a-1d2e3f4a5b6c';
const now = 1_800_000_000;

describe('webhook capability tokens', () => {
  const exp = String(now + 60);
  const token = signWebhookToken(secret, uuid, now + 60);

  it('a token verifies for its own task until it expires', () => {
    expect(verifyWebhookToken(secret, uuid, token, exp, now)).toBe('ok');
    expect(verifyWebhookToken(secret, uuid, token, exp, now + 61)).toBe('expired');
  });

  it('a token for another task, another secret or another expiry does not verify', () => {
    expect(verifyWebhookToken(secret, other, token, exp, now)).toBe('mismatch');
    expect(verifyWebhookToken('another-secret-entirely', uuid, token, exp, now)).toBe('mismatch');
    expect(verifyWebhookToken(secret, uuid, token, String(now + 3600), now)).toBe('mismatch');
  });

  it('missing and malformed parts are named', () => {
    expect(verifyWebhookToken(secret, uuid, undefined, exp, now)).toBe('missing');
    expect(verifyWebhookToken(secret, uuid, token, undefined, now)).toBe('missing');
    expect(verifyWebhookToken(secret, uuid, [token], exp, now)).toBe('malformed');
    expect(verifyWebhookToken(secret, uuid, token, 'soon', now)).toBe('malformed');
    expect(verifyWebhookToken(secret, uuid, `${token}x`, exp, now)).toBe('mismatch');
  });

  it('the webhook URL carries the task, the expiry and a token that verifies', () => {
    const url = new URL(webhookUrlFor('https://relay.example/', secret, uuid, now + 60));
    expect(url.pathname).toBe(`/webhooks/runware/${uuid}`);
    const check = verifyWebhookToken(
      secret,
      uuid,
      url.searchParams.get('token'),
      url.searchParams.get('exp'),
      now,
    );
    expect(check).toBe('ok');
  });
});
