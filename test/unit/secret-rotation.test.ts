// Rotation at the unit level: webhook tokens verify against the current and the previous secret (and no
// other), new URLs are signed with the current one only; event signatures carry one `v1,` per secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signEventWebhook } from '../../src/events/outgoing/event-webhook-signature.js';
import { signWebhookToken, verifyWebhookToken, webhookUrlFor } from '../../src/tokens/webhook-token.js';
import { authenticateWebhook } from '../../src/webhook/ingest-webhook.js';

const secret = () => randomBytes(32).toString('base64url');
const NOW = 1_800_000_000;

describe('webhook token rotation', () => {
  const [current, previous, stranger] = [secret(), secret(), secret()];
  const task = randomUUID();
  const exp = NOW + 3600;

  it('accepts tokens signed with the current or the previous secret, refuses any other', () => {
    const rotation = [current, previous];
    expect(verifyWebhookToken(rotation, task, signWebhookToken(current, task, exp), String(exp), NOW)).toBe(
      'ok',
    );
    expect(verifyWebhookToken(rotation, task, signWebhookToken(previous, task, exp), String(exp), NOW)).toBe(
      'ok',
    );
    expect(verifyWebhookToken(rotation, task, signWebhookToken(stranger, task, exp), String(exp), NOW)).toBe(
      'mismatch',
    );
  });

  it('a previous-secret token still expires at its expiry', () => {
    const token = signWebhookToken(previous, task, NOW - 1);
    expect(verifyWebhookToken([current, previous], task, token, String(NOW - 1), NOW)).toBe('expired');
  });

  it('once the previous secret is dropped, its tokens are refused (401)', () => {
    const token = signWebhookToken(previous, task, exp);
    expect(() => authenticateWebhook([current], task, token, String(exp))).toThrow(/webhook token mismatch/);
    expect(() => authenticateWebhook([current, previous], task, token, String(exp))).not.toThrow();
  });

  it('new webhook URLs are signed with the current secret', () => {
    const url = new URL(webhookUrlFor('https://relay.example.com', current, task, exp));
    expect(url.searchParams.get('token')).toBe(signWebhookToken(current, task, exp));
  });
});

describe('event signature rotation', () => {
  const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
  it('signs with every secret, space-separated, and each secret alone verifies', () => {
    const [next, prev] = [whsec(), whsec()];
    const body = JSON.stringify({ type: 'task.completed', data: {} });
    const headers = signEventWebhook([next, prev], 'msg_1', body);
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.startsWith('v1,'))).toBe(true);
    expect(() => new Webhook(next).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(prev).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(whsec()).verify(body, { ...headers })).toThrow();
  });
});
