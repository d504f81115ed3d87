// One error→HTTP mapping for the whole service: by class and code, never by a stray `status` property;
// unexpected errors answer 500 without their message and are logged. A real express app over HTTP.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonTooDeepError } from '../../src/contract/lossless-json.js';
import { NotFoundError, RelayError, ValidationError, WebhookError } from '../../src/errors.js';
import { BudgetInputError, EventStreamRequestError } from '../../src/events/event-errors.js';
import { errorToHttp, httpAnswerFor } from '../../src/http/error-to-http.js';

const logged: { obj: object; msg: string }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.get('/throw/:kind', (req) => {
    switch (req.params.kind) {
      case 'webhook':
        throw new WebhookError('WEBHOOK_TOKEN', 401, 'bad token');
      case 'not-found':
        throw new NotFoundError('batch b1');
      case 'duck':
        // An arbitrary error that happens to carry a 4xx `status` is not trusted with it.
        throw Object.assign(new Error('secret detail'), { status: 404 });
      default:
        throw new Error('boom');
    }
  });
  app.post('/json', express.json({ limit: 10 }), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorToHttp({ error: (obj, msg) => logged.push({ obj, msg }) }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('error to HTTP', () => {
  it('maps by class and code', () => {
    expect(httpAnswerFor(new WebhookError('W', 415, 'm'))).toMatchObject({ status: 415, code: 'W' });
    expect(httpAnswerFor(new EventStreamRequestError('E', 403, 'm'))).toMatchObject({
      status: 403,
      code: 'E',
    });
    expect(httpAnswerFor(new NotFoundError('x'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(httpAnswerFor(new ValidationError([]))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(httpAnswerFor(new BudgetInputError('m'))).toMatchObject({ status: 400, code: 'BUDGET_INVALID' });
    expect(httpAnswerFor(new JsonTooDeepError(3))).toMatchObject({ status: 400, code: 'JSON_TOO_DEEP' });
    expect(httpAnswerFor(new RelayError('STORAGE_FAILED', 'secret'))).toEqual({
      status: 500,
      code: 'STORAGE_FAILED',
      message: 'internal error',
    });
    expect(httpAnswerFor(Object.assign(new Error('x'), { status: 418 })).status).toBe(500);
  });

  it('answers over HTTP and logs only the 500s', async () => {
    logged.length = 0;
    const webhook = await fetch(`${base}/throw/webhook`);
    expect(webhook.status).toBe(401);
    expect(await webhook.json()).toEqual({ ok: false, code: 'WEBHOOK_TOKEN', message: 'bad token' });
    expect((await fetch(`${base}/throw/not-found`)).status).toBe(404);
    const duck = await fetch(`${base}/throw/duck`);
    expect(duck.status).toBe(500);
    expect(await duck.json()).toEqual({ ok: false, code: 'INTERNAL', message: 'internal error' });
    const big = await fetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ long: 'x'.repeat(100) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('BODY_TOO_LARGE');
    const bad = await fetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    expect((await fetch(`${base}/throw/other`)).status).toBe(500);
    expect(logged.map((l) => l.msg)).toEqual(['request failed', 'request failed']);
    expect(logged.map((l) => ((l.obj as { err: Error }).err as Error).message)).toEqual([
      'secret detail',
      'boom',
    ]);
  });
});
