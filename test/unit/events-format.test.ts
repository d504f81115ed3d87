// Pure parts of completion events: stream entries → typed events, the SSE frame, the webhook body and
// id, the retry schedule, and signatures that interoperate with the standardwebhooks library.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { EventWebhookVerificationError } from '../../src/events/event-errors.js';
import { parseStreamEntry } from '../../src/events/event-types.js';
import { formatSseEvent } from '../../src/events/mount-events.js';
import { signEventWebhook, verifyEventWebhook } from '../../src/events/outgoing/event-webhook-signature.js';
import { retryDelayMs, withinRetryWindow } from '../../src/events/outgoing/retry-schedule.js';
import { webhookBody, webhookId } from '../../src/events/outgoing/webhook-body.js';

const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes length!').toString('base64')}`;

const output = {
  slot: 0,
  bucket: 'b',
  key: 'outputs/t/0.jpg',
  size: 10,
  sha256: 'ab',
  contentType: 'image/jpeg',
  imageUUID: 'i1',
  seed: '9223372036854775807',
  cost: 0.04,
  storedAt: 1,
};
const entry = (type: string, data: unknown, taskUUID = 't1', batchId = 'b1') => [
  'type',
  type,
  'taskUUID',
  taskUUID,
  'batchId',
  batchId,
  'at',
  '1700000000000',
  'data',
  JSON.stringify(data),
];

describe('stream entries as typed events', () => {
  it('a task.completed entry carries its cost and outputs, seeds kept as strings', () => {
    const ev = parseStreamEntry('1-0', entry('task.completed', { cost: 0.04, outputs: [output] }));
    expect(ev).toMatchObject({ id: '1-0', type: 'task.completed', at: 1700000000000, taskUUID: 't1' });
    expect(ev?.type === 'task.completed' && ev.data.outputs[0]?.seed).toBe('9223372036854775807');
  });

  it('a batch event has no taskUUID, and a task outside a batch has no batchId', () => {
    const b = parseStreamEntry(
      '2-0',
      entry('batch.completed', { total: 2, completed: 1, failed: 1, cancelled: 0, cost: 0.04 }, ''),
    );
    expect(b).not.toHaveProperty('taskUUID');
    expect(b).toMatchObject({ batchId: 'b1', data: { total: 2, failed: 1 } });
    const t = parseStreamEntry('3-0', entry('task.failed', { reason: 'x' }, 't2', ''));
    expect(t).not.toHaveProperty('batchId');
  });

  it('unknown types and damaged data are not events', () => {
    expect(parseStreamEntry('4-0', entry('task.exploded', {}))).toBeNull();
    expect(parseStreamEntry('5-0', entry('task.failed', { why: 1 }))).toBeNull();
    expect(parseStreamEntry('6-0', ['type', 'task.failed', 'data', '{not json'])).toBeNull();
  });
});

describe('wire formats', () => {
  const ev = parseStreamEntry('7-1', entry('task.failed', { reason: 'line1\nline2' }))!;

  it('an SSE frame has the stream id, the type as event name and the event as one data line', () => {
    const frame = formatSseEvent(ev);
    expect(frame).toBe(`id: 7-1\nevent: task.failed\ndata: ${JSON.stringify(ev)}\n\n`);
    expect(frame.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1);
  });

  it('a webhook body is the Standard Webhooks envelope; its id is stable per event and target', () => {
    expect(webhookBody(ev)).toEqual({
      type: 'task.failed',
      timestamp: '2023-11-14T22:13:20.000Z',
      data: { eventId: '7-1', taskUUID: 't1', batchId: 'b1', reason: 'line1\nline2' },
    });
    expect(webhookId('7-1', 'http://a/')).toBe(webhookId('7-1', 'http://a/'));
    expect(webhookId('7-1', 'http://a/')).not.toBe(webhookId('7-1', 'http://b/'));
    expect(webhookId('7-1', 'http://a/')).not.toBe(webhookId('7-2', 'http://a/'));
  });
});

describe('retry schedule', () => {
  it('doubles from the initial delay up to the cap, within the retry window', () => {
    const s = { initialDelayMs: 5000, maxDelayMs: 3_600_000, maxAgeMs: 86_400_000 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, s))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(11, s)).toBe(3_600_000);
    expect(retryDelayMs(10_000, s)).toBe(3_600_000);
    expect(withinRetryWindow(0, 86_400_000, s)).toBe(true);
    expect(withinRetryWindow(0, 86_400_001, s)).toBe(false);
  });
});

describe('signatures', () => {
  const body = JSON.stringify({ type: 'task.failed', timestamp: 'x', data: { reason: 'r' } });

  it('what we sign verifies with the standardwebhooks library', () => {
    const headers = signEventWebhook(SECRET, 'msg_1', body);
    expect(new Webhook(SECRET).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('what the standardwebhooks library signs verifies with our helper, from Node or fetch headers', () => {
    const now = new Date();
    const sig = new Webhook(SECRET).sign('msg_2', now, body);
    const h = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(+now / 1000)),
      'webhook-signature': sig,
    };
    expect(verifyEventWebhook(SECRET, h, body)).toEqual(JSON.parse(body));
    expect(verifyEventWebhook(SECRET, new Headers(h), Buffer.from(body))).toEqual(JSON.parse(body));
  });

  it('a changed body, another secret, a missing header or an old timestamp is refused with a typed error', () => {
    const h = signEventWebhook(SECRET, 'msg_3', body);
    const other = `whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`;
    const old = signEventWebhook(SECRET, 'msg_3', body, new Date(Date.now() - 3_600_000));
    const { 'webhook-signature': _, ...unsigned } = h;
    const cases: [string, Record<string, string>, string][] = [
      [SECRET, { ...h }, `${body} `],
      [other, { ...h }, body],
      [SECRET, unsigned, body],
      [SECRET, { ...old }, body],
    ];
    for (const [secret, headers, raw] of cases) {
      expect(() => verifyEventWebhook(secret, headers, raw)).toThrow(EventWebhookVerificationError);
    }
  });
});
