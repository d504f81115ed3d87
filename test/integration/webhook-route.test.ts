// The webhook route's order of checks: the URL's token first, so an unauthenticated caller cannot tell
// a bad content type or malformed JSON from a bad token; then content type, JSON, body shape.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookUrlFor } from '../../src/tokens/webhook-token.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ role: 'webhook' });
});
afterAll(() => p.close());

const uuid = '3b0c2f5e-6a9d-4a51-9d0e-2f7f1c9a2b11';
const post = (url: string, body: string, type = 'application/json') =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': type } });

describe('webhook route', () => {
  it('without a valid token, every malformed request answers 401', async () => {
    const bad = `${p.svc.url}/webhooks/runware/${uuid}?exp=9999999999&token=nope`;
    expect((await post(bad, '{not json')).status).toBe(401);
    expect((await post(bad, '<xml/>', 'application/xml')).status).toBe(401);
    expect((await post(`${p.svc.url}/webhooks/runware/${uuid}`, '{}')).status).toBe(401);
  });

  it('with a valid token, the body is checked: content type 415, JSON 400, shape 400', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const url = webhookUrlFor(p.svc.url!, p.config.WEBHOOK_SECRET!, uuid, exp);
    expect((await post(url, '<xml/>', 'application/xml')).status).toBe(415);
    expect((await post(url, '{not json')).status).toBe(400);
    const shape = await post(url, JSON.stringify({ data: 'nope' }));
    expect(shape.status).toBe(400);
    expect(((await shape.json()) as { code: string }).code).toBe('WEBHOOK_BAD_BODY');
  });

  /** The webhook URL the worker would hand the provider for this task, valid for ten minutes. */
  const signedUrl = (task: string) =>
    webhookUrlFor(p.svc.url!, p.config.WEBHOOK_SECRET!, task, Math.floor(Date.now() / 1000) + 600);
  const resultItem = (task: string) => ({
    taskType: 'imageInference',
    taskUUID: task,
    imageUUID: randomUUID(),
    imageURL: 'https://im.example/a.jpg',
  });

  it('verifies the token once per request, through to the ingest (kr_webhook_token_checks_total)', async () => {
    const checks = async (result: string) =>
      (await p.svc.metrics.webhookTokenChecks.get()).values.find((v) => v.labels.result === result)?.value ??
      0;
    const [ok0, bad0] = [await checks('ok'), await checks('mismatch')];
    const task = randomUUID();
    const url = signedUrl(task);
    // A well-formed item for a task this relay never created: authenticated, parsed, then 404 from the store.
    const item = resultItem(task);
    const res = await post(url, JSON.stringify({ data: [item] }));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('WEBHOOK_UNKNOWN_TASK');
    expect(await checks('ok')).toBe(ok0 + 1);
    // A bad token still fails, and is counted once.
    expect(
      (await post(url.replace(/token=[^&]+/, 'token=nope'), JSON.stringify({ data: [item] }))).status,
    ).toBe(401);
    expect(await checks('mismatch')).toBe(bad0 + 1);
    expect(await checks('ok')).toBe(ok0 + 1);
  });

  it('answers a recorded item 200 with a JSON body, and its repeat as a duplicate', async () => {
    const task = randomUUID();
    await p.svc.tasks.create({
      taskUUID: task,
      jobId: task,
      batchId: undefined,
      mode: 'webhook',
      expected: 1,
    });
    const url = signedUrl(task);
    const item = resultItem(task);
    const first = await post(url, JSON.stringify({ data: [item] }));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await first.json()).toEqual({ ok: true, received: 1, duplicates: 0, late: 0, errors: 0 });
    const again = await post(url, JSON.stringify({ data: [item] }));
    expect(await again.json()).toEqual({ ok: true, received: 0, duplicates: 1, late: 0, errors: 0 });
  });
});
