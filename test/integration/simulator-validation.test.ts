// The simulator's POST /v1 front door over real HTTP: authentication, per-task validation with the
// provider's error codes, conflicting taskUUIDs and mixed requests.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS } from '../../src/contract/index.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';

type Json = Record<string, unknown>;
interface Body {
  data: Json[];
  errors?: Json[];
}

const API_KEY = 'sim-test-key';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: API_KEY, latency: { minMs: 1, maxMs: 5 } });
});
afterAll(async () => {
  await sim?.close();
});

function task(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    taskType: 'imageInference',
    taskUUID: randomUUID(),
    model: 'bfl:3@1',
    positivePrompt: 'a red fox in the snow',
    width: 1024,
    height: 1024,
    deliveryMethod: 'async',
    ...extra,
  };
}

async function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }) {
  const res = await fetch(sim.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Body };
}

/** The single error a one-task request earns. */
async function errorFor(extra: Record<string, unknown>, omit?: string) {
  const t = task(extra);
  if (omit) delete t[omit];
  const r = await post([t]);
  expect(r.status).toBe(400);
  expect(r.json.data).toEqual([]);
  expect(r.json.errors).toHaveLength(1);
  return r.json.errors![0]!;
}

describe('simulator authentication', () => {
  it('accepts the API key as a Bearer header', async () => {
    const r = await post([task()]);
    expect(r.status).toBe(200);
  });

  it('accepts the API key as a leading authentication task and does not answer that task', async () => {
    const t = task();
    const r = await post([{ taskType: 'authentication', apiKey: API_KEY }, t], {});
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([{ taskType: 'imageInference', taskUUID: t.taskUUID }]);
  });

  it('answers a wrong Bearer key with 401 invalidApiKey and accepts nothing', async () => {
    const t = task();
    const r = await post([t], { authorization: 'Bearer wrong' });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ data: [], errors: [{ code: 'invalidApiKey' }] });
    const poll = await post([{ taskType: 'getResponse', taskUUID: t.taskUUID }]);
    expect(poll.json.data).toEqual([]);
  });

  it('answers a wrong key in the authentication task with 401 invalidApiKey', async () => {
    const r = await post([{ taskType: 'authentication', apiKey: 'nope' }, task()], {});
    expect(r.status).toBe(401);
    expect(r.json.errors![0]).toMatchObject({ code: 'invalidApiKey', message: expect.any(String) });
  });

  it('answers a request without any key with 401 missingApiKey', async () => {
    const r = await post([task()], {});
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ data: [], errors: [{ code: 'missingApiKey' }] });
  });

  it('accepts any non-empty key when no apiKey is configured', async () => {
    const open = await startSimulator({ latency: { minMs: 1, maxMs: 1 } });
    try {
      const res = await fetch(open.url, {
        method: 'POST',
        headers: { authorization: 'Bearer anything-at-all' },
        body: JSON.stringify([task()]),
      });
      expect(res.status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('simulator request body', () => {
  it.each([
    ['not JSON', '[{'],
    ['an object instead of an array', '{"taskType":"imageInference"}'],
    ['an empty array', '[]'],
  ])('answers %s with 400 invalidRequestBody', async (_label, body) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ data: [], errors: [{ code: 'invalidRequestBody' }] });
  });

  it('answers an unknown taskType with unsupportedTaskType', async () => {
    const e = await errorFor({ taskType: 'videoInference' });
    expect(e).toMatchObject({ code: 'unsupportedTaskType', parameter: 'taskType' });
  });
});

describe('simulator task validation for bfl:3@1', () => {
  it.each(MODELS['bfl:3@1']!.sizes)('accepts the size $label ($width×$height)', async ({ width, height }) => {
    const r = await post([task({ width, height })]);
    expect(r.status).toBe(200);
  });

  it('rejects a pair outside the table on height when the width is an allowed one', async () => {
    const e = await errorFor({ width: 1024, height: 768 });
    expect(e).toMatchObject({ code: 'invalidHeight', parameter: 'height', type: 'integer' });
    expect(e.message).toContain('1568×672');
  });

  it('rejects a width no allowed size has with invalidWidth and its range', async () => {
    const e = await errorFor({ width: 1000 });
    expect(e).toMatchObject({ code: 'invalidWidth', parameter: 'width', min: 672, max: 1568 });
  });

  it('fills every field of the provider error object', async () => {
    const t = task({ outputQuality: 100 });
    const r = await post([t]);
    expect(r.json.errors![0]).toEqual({
      code: 'invalidOutputQuality',
      message: expect.stringContaining('outputQuality'),
      parameter: 'outputQuality',
      taskUUID: t.taskUUID,
      taskType: 'imageInference',
      documentation: expect.stringMatching(/^https:\/\/runware\.ai\/docs\//),
      type: 'integer',
      min: 20,
      max: 99,
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['a 1-character prompt', { positivePrompt: 'a' }, { code: 'invalidPositivePrompt', min: 2, max: 3000 }],
    ['a 3001-character prompt', { positivePrompt: 'x'.repeat(3001) }, { code: 'invalidPositivePrompt' }],
    ['a non-string prompt', { positivePrompt: 42 }, { code: 'invalidPositivePrompt' }],
    ['outputQuality 19', { outputQuality: 19 }, { code: 'invalidOutputQuality', min: 20 }],
    ['outputQuality 100', { outputQuality: 100 }, { code: 'invalidOutputQuality', max: 99 }],
    ['a fractional outputQuality', { outputQuality: 50.5 }, { code: 'invalidOutputQuality' }],
    ['numberResults 0', { numberResults: 0 }, { code: 'invalidNumberResults', min: 1, max: 20 }],
    ['numberResults 21', { numberResults: 21 }, { code: 'invalidNumberResults', max: 20 }],
    ['ttl 59', { ttl: 59 }, { code: 'invalidTtl', min: 60 }],
    ['a negative seed', { seed: -1 }, { code: 'invalidSeed', min: 0 }],
    ['a lowercase outputType', { outputType: 'url' }, { code: 'invalidOutputType' }],
    ['outputFormat GIF', { outputFormat: 'GIF' }, { code: 'invalidOutputFormat' }],
    ['deliveryMethod "later"', { deliveryMethod: 'later' }, { code: 'invalidDeliveryMethod' }],
    ['a non-http webhookURL', { webhookURL: 'ftp://example.com/x' }, { code: 'invalidWebhookURL' }],
    ['a non-URL uploadEndpoint', { uploadEndpoint: 'not a url' }, { code: 'invalidUploadEndpoint' }],
    ['a string includeCost', { includeCost: 'yes' }, { code: 'invalidIncludeCost' }],
    ['safety.mode "full"', { safety: { mode: 'full' } }, { code: 'invalidSafety', parameter: 'safety.mode' }],
    ['another model', { model: 'bfl:2@1' }, { code: 'invalidModel' }],
    ['a taskUUID that is not a UUID v4', { taskUUID: 'abc' }, { code: 'invalidTaskUUID', taskUUID: 'abc' }],
    ['a string width', { width: 'wide' }, { code: 'invalidWidth' }],
    ['an unknown top-level key', { steps: 28 }, { code: 'unsupportedParameter', parameter: 'steps' }],
    [
      'negativePrompt',
      { negativePrompt: 'x y' },
      { code: 'unsupportedParameter', parameter: 'negativePrompt' },
    ],
    [
      'an unknown key under inputs',
      { inputs: { seedImage: 'https://example.com/a.png' } },
      { code: 'unsupportedParameter', parameter: 'inputs.seedImage' },
    ],
    [
      'top-level referenceImages (the legacy place)',
      { referenceImages: ['https://example.com/a.png'] },
      { code: 'unsupportedParameter', parameter: 'referenceImages' },
    ],
    [
      'three reference images',
      {
        inputs: { referenceImages: ['https://a.test/1.png', 'https://a.test/2.png', 'https://a.test/3.png'] },
      },
      { code: 'invalidReferenceImages', parameter: 'inputs.referenceImages', max: 2 },
    ],
    [
      'an empty referenceImages array',
      { inputs: { referenceImages: [] } },
      { code: 'arrayTooSmall', parameter: 'inputs.referenceImages', min: 1 },
    ],
    [
      'a reference image that is none of UUID, URL, data URI or base64',
      { inputs: { referenceImages: ['??'] } },
      { code: 'invalidReferenceImages', parameter: 'inputs.referenceImages' },
    ],
    [
      'safetyTolerance 7',
      { providerSettings: { bfl: { safetyTolerance: 7 } } },
      { code: 'invalidProviderSettings', parameter: 'providerSettings.bfl.safetyTolerance', min: 0, max: 6 },
    ],
    [
      'an unknown providerSettings.bfl key',
      { providerSettings: { bfl: { steps: 3 } } },
      { code: 'invalidProviderSettings', parameter: 'providerSettings.bfl.steps' },
    ],
    [
      'settings for another provider',
      { providerSettings: { openai: {} } },
      { code: 'invalidProviderSettings', parameter: 'providerSettings.openai' },
    ],
  ])('rejects %s', async (_label, extra, expected) => {
    const e = await errorFor(extra);
    expect(e).toMatchObject(expected);
  });

  it.each(['positivePrompt', 'width', 'height', 'model'])(
    'rejects a task without %s as missing',
    async (field) => {
      const e = await errorFor({}, field);
      expect(e).toMatchObject({
        code: `missing${field[0]!.toUpperCase()}${field.slice(1)}`,
        parameter: field,
      });
    },
  );

  it('writes the seed bound above 2^53 with every digit', async () => {
    const r = await post(`[${JSON.stringify(task()).replace(/}$/, ',"seed":9223372036854775808}')}]`);
    expect(r.json.errors![0]).toMatchObject({ code: 'invalidSeed' });
    expect(r.text).toContain('"max":9223372036854775807');
  });

  it.each<[string, Record<string, unknown>]>([
    ['a 2-character prompt', { positivePrompt: 'ab' }],
    ['a 3000-character prompt', { positivePrompt: 'x'.repeat(3000) }],
    ['outputQuality 20', { outputQuality: 20 }],
    ['outputQuality 99', { outputQuality: 99 }],
    ['numberResults 1', { numberResults: 1 }],
    ['numberResults 20', { numberResults: 20 }],
    ['ttl 60', { ttl: 60 }],
    ['seed 0', { seed: 0 }],
    ['two reference images', { inputs: { referenceImages: ['https://a.test/1.png', randomUUID()] } }],
    [
      'every documented bfl setting',
      { providerSettings: { bfl: { promptUpsampling: true, safetyTolerance: 6 } } },
    ],
    ['safety.checkContent and mode fast', { safety: { checkContent: true, mode: 'fast' } }],
    ['every output type', { outputType: 'dataURI', outputFormat: 'WEBP' }],
  ])('accepts %s', async (_label, extra) => {
    const r = await post([task(extra)]);
    expect(r.status).toBe(200);
    expect(r.json.errors).toBeUndefined();
  });

  it('accepts top-level referenceImages when flatReferenceImagesAllowed is set', async () => {
    const legacy = await startSimulator({
      flatReferenceImagesAllowed: true,
      latency: { minMs: 1, maxMs: 1 },
    });
    try {
      const res = await fetch(legacy.url, {
        method: 'POST',
        headers: { authorization: 'Bearer k' },
        body: JSON.stringify([task({ referenceImages: ['https://example.com/a.png'] })]),
      });
      expect(res.status).toBe(200);
    } finally {
      await legacy.close();
    }
  });
});

describe('simulator taskUUID conflicts and mixed requests', () => {
  it('rejects a reused taskUUID with 400 conflictTaskUUID and the original delivery in context', async () => {
    const t = task();
    expect((await post([t])).status).toBe(200);
    const again = await post([{ ...t, deliveryMethod: 'sync' }]);
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({
      data: [],
      errors: [
        {
          code: 'conflictTaskUUID',
          taskUUID: t.taskUUID,
          context: { taskType: 'imageInference', taskUUID: t.taskUUID, deliveryMethod: 'async' },
        },
      ],
    });
  });

  it('accepts the first of two tasks sharing a taskUUID in one request and rejects the second', async () => {
    const t = task();
    const r = await post([t, t]);
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([{ taskType: 'imageInference', taskUUID: t.taskUUID }]);
    expect(r.json.errors).toMatchObject([{ code: 'conflictTaskUUID' }]);
  });

  it('answers a request with valid and invalid tasks with 200 and both arrays', async () => {
    const good = task();
    const bad = task({ width: 999 });
    const r = await post([good, bad]);
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([{ taskType: 'imageInference', taskUUID: good.taskUUID }]);
    expect(r.json.errors).toMatchObject([{ code: 'invalidWidth', taskUUID: bad.taskUUID }]);
  });

  it('answers a request where every task failed with 400', async () => {
    const r = await post([task({ width: 999 }), task({ steps: 2 })]);
    expect(r.status).toBe(400);
    expect(r.json.data).toEqual([]);
    expect(r.json.errors!.map((e) => e.code)).toEqual(['invalidWidth', 'unsupportedParameter']);
  });

  it('counts accepted and rejected tasks', async () => {
    const before = sim.stats();
    await post([task(), task({ width: 1 })]);
    const after = sim.stats();
    expect(after.tasksAccepted - before.tasksAccepted).toBe(1);
    expect(after.tasksRejected - before.tasksRejected).toBe(1);
    expect(after.requests - before.requests).toBe(1);
  });
});
