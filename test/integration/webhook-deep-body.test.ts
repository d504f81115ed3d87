// A webhook body nested 10,000 deep (it parses, but recursive code after the parse would overflow the
// stack) is answered 400 with its reason in the log, never an unlogged 500.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/contract/index.js';
import { type RunningService, startService } from '../../src/service/start-service.js';
import { webhookUrlFor } from '../../src/tokens/webhook-token.js';
import { testConfig } from '../helpers/env.js';

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l));
    done();
  },
});

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({
    config: testConfig({ PORT: '0', LOG_LEVEL: 'info' }),
    role: 'webhook',
    logger: pino({ level: 'info' }, sink),
  });
});
afterAll(() => svc?.close());

describe('webhook body nesting', () => {
  it('a value nested 10,000 deep gets 400 WEBHOOK_BAD_JSON and one warning naming the reason', async () => {
    const taskUUID = randomUUID();
    const url = webhookUrlFor(
      svc.url!,
      svc.config.WEBHOOK_SECRET!,
      taskUUID,
      Math.floor(Date.now() / 1000) + 600,
    );
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"data":[{"taskUUID":"${taskUUID}","imageUUID":"${randomUUID()}","x":${deep}}]}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'WEBHOOK_BAD_JSON',
      message: `JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
    expect(lines.filter((l) => l.msg === 'webhook body refused')).toEqual([
      expect.objectContaining({
        level: 40,
        taskUUID,
        reason: `JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
      }),
    ]);
  });
});
