// Every fault knob of the simulator at rate 1, observed over real HTTP the way a client would see it.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultRates, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type Received, startReceiver } from '../helpers/http-receiver.js';

type Json = Record<string, unknown>;
interface Body {
  data: Json[];
  errors?: Json[];
}
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simWith(faults: Partial<FaultRates>, seed?: number): Promise<Simulator> {
  const s = await startSimulator({
    faults,
    latency: { minMs: 5, maxMs: 20 },
    ...(seed === undefined ? {} : { seed }),
  });
  cleanups.push(() => s.close());
  return s;
}
async function receiver() {
  const r = await startReceiver();
  cleanups.push(r.close);
  return r;
}

function task(extra: Json = {}): Json {
  return {
    taskType: 'imageInference',
    taskUUID: randomUUID(),
    model: 'bfl:3@1',
    positivePrompt: 'a harbour in fog',
    width: 1248,
    height: 832,
    ...extra,
  };
}

async function post(s: Simulator, body: unknown) {
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Body };
}

const poll = (s: Simulator, taskUUID: unknown) => post(s, [{ taskType: 'getResponse', taskUUID }]);
const bodies = (posts: Received[]) => posts.map((p) => JSON.parse(p.text) as Json);

describe('simulator submit faults', () => {
  it.each([
    ['submit429', 429, 'rateLimitExceeded'],
    ['submit500', 500, 'serverError'],
    ['submit503', 503, 'providerUnavailable'],
    ['submit504', 504, 'failedTaskTimeout'],
  ] as const)('%s answers HTTP %i %s and accepts nothing', async (fault, status, code) => {
    const s = await simWith({ [fault]: 1 });
    const t = task({ deliveryMethod: 'async' });
    const r = await post(s, [t]);
    expect(r.status).toBe(status);
    expect(r.json).toEqual({
      data: [],
      errors: [expect.objectContaining({ code, message: expect.any(String) })],
    });
    expect(s.stats()).toMatchObject({ submitFaults: 1, tasksAccepted: 0 });
    s.setFaults({ [fault]: 0 });
    expect((await poll(s, t.taskUUID)).json).toEqual({ data: [] });
    expect((await post(s, [t])).status).toBe(200); // the same taskUUID is no conflict: it was never accepted
  });

  it('applies a fault rate changed at runtime to the next request', async () => {
    const s = await simWith({ submit503: 1 });
    expect((await post(s, [task()])).status).toBe(503);
    s.setFaults({ submit503: 0 });
    expect((await post(s, [task()])).status).toBe(200);
  });

  it('makes the same fault decisions for the same RNG seed', async () => {
    const statuses = async (s: Simulator) => {
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await post(s, [task({ deliveryMethod: 'async' })])).status);
      return out;
    };
    const a = await statuses(await simWith({ submit500: 0.5 }, 7));
    const b = await statuses(await simWith({ submit500: 0.5 }, 7));
    expect(a).toEqual(b);
    expect(a).toContain(200);
    expect(a).toContain(500);
  });
});

describe('simulator webhook faults', () => {
  it('dropWebhook never delivers the webhook, while getResponse shows the result', async () => {
    const s = await simWith({ dropWebhook: 1 });
    const hook = await receiver();
    const t = task({ numberResults: 2, webhookURL: `${hook.url}/h` });
    await post(s, [t]);
    await s.idle();
    expect(hook.posts()).toHaveLength(0);
    expect(s.stats()).toMatchObject({ webhooksDropped: 2, webhookAttempts: 0 });
    expect((await poll(s, t.taskUUID)).json.data.map((i) => i.status)).toEqual(['success', 'success']);
  });

  it('duplicateWebhook delivers every item twice with the same body', async () => {
    const s = await simWith({ duplicateWebhook: 1 });
    const hook = await receiver();
    await post(s, [task({ numberResults: 2, webhookURL: `${hook.url}/h` })]);
    await s.idle();
    const texts = hook.posts().map((p) => p.text);
    expect(texts).toHaveLength(4);
    expect(new Set(texts).size).toBe(2);
    expect(s.stats()).toMatchObject({ webhooksDuplicated: 2, webhooksSent: 4 });
  });

  it('reorderWebhooks sends the items of a task in an order other than the one they finished in', async () => {
    const s = await simWith({ reorderWebhooks: 1 });
    const hook = await receiver();
    const t = task({ numberResults: 4, webhookURL: `${hook.url}/h` });
    await post(s, [t]);
    await s.idle();
    const arrived = bodies(hook.posts()).map((b) => (b.data as Json[])[0]!.imageUUID);
    const finished = s
      .results()
      .filter((r) => r.taskUUID === t.taskUUID)
      .sort((x, y) => x.index - y.index)
      .map((r) => r.imageUUID);
    expect([...arrived].sort()).toEqual([...finished].sort());
    expect(arrived).not.toEqual(finished);
  });

  it('webhookBeforeAck posts the first webhook before the submit response is written', async () => {
    const s = await simWith({ webhookBeforeAck: 1 });
    const hook = await receiver();
    const t = task({ webhookURL: `${hook.url}/h` });
    const r = await post(s, [t]);
    expect(hook.posts().length).toBeGreaterThanOrEqual(1);
    expect(r.json.data).toEqual([{ taskType: 'imageInference', taskUUID: t.taskUUID }]);
  });

  it('flatWebhookBody posts the bare item instead of {data:[item]}', async () => {
    const s = await simWith({ flatWebhookBody: 1 });
    const hook = await receiver();
    const t = task({ webhookURL: `${hook.url}/h` });
    await post(s, [t]);
    await s.idle();
    const [body] = bodies(hook.posts());
    expect(body).not.toHaveProperty('data');
    expect(body).toMatchObject({
      taskType: 'imageInference',
      taskUUID: t.taskUUID,
      imageUUID: expect.any(String),
    });
  });
});

describe('simulator item faults', () => {
  it('itemError fails items with timeoutProvider in the webhook, getResponse and results()', async () => {
    const s = await simWith({ itemError: 1 });
    const hook = await receiver();
    const t = task({ numberResults: 2, webhookURL: `${hook.url}/h`, uploadEndpoint: `${hook.url}/put` });
    await post(s, [t]);
    await s.idle();
    for (const body of bodies(hook.posts())) {
      expect(body).toEqual({
        errors: [
          expect.objectContaining({
            code: 'timeoutProvider',
            message: expect.any(String),
            taskUUID: t.taskUUID,
            taskType: 'imageInference',
          }),
        ],
      });
    }
    expect(hook.posts()).toHaveLength(2);
    expect(hook.puts()).toHaveLength(0);
    const polled = await poll(s, t.taskUUID);
    expect(polled.status).toBe(200);
    expect(polled.json.data).toEqual([]);
    expect(polled.json.errors).toEqual([
      expect.objectContaining({ code: 'timeoutProvider', status: 'error', taskUUID: t.taskUUID }),
      expect.objectContaining({ code: 'timeoutProvider', status: 'error', taskUUID: t.taskUUID }),
    ]);
    expect(s.results()).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ code: 'timeoutProvider' }),
        sha256: '',
        size: 0,
      }),
      expect.objectContaining({ error: expect.objectContaining({ code: 'timeoutProvider' }) }),
    ]);
  });

  it('itemError shows in the errors array of a sync response', async () => {
    const s = await simWith({ itemError: 1 });
    const t = task();
    const r = await post(s, [t]);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      data: [],
      errors: [expect.objectContaining({ code: 'timeoutProvider', taskUUID: t.taskUUID })],
    });
  });

  it('cost0 reports cost 0 when includeCost is set', async () => {
    const s = await simWith({ cost0: 1 });
    const r = await post(s, [task({ includeCost: true })]);
    expect(r.json.data[0]!.cost).toBe(0);
  });

  it('nsfw flags NSFWContent when safety.checkContent is on, and adds nothing otherwise', async () => {
    const s = await simWith({ nsfw: 1 });
    const checked = await post(s, [task({ safety: { checkContent: true } })]);
    expect(checked.json.data[0]!.NSFWContent).toBe(true);
    const plain = await post(s, [task()]);
    expect(plain.json.data[0]).not.toHaveProperty('NSFWContent');
  });
});

describe('simulator upload faults', () => {
  it('uploadFail makes no PUT and counts the upload as failed', async () => {
    const s = await simWith({ uploadFail: 1 });
    const hook = await receiver();
    await post(s, [task({ webhookURL: `${hook.url}/h`, uploadEndpoint: `${hook.url}/put` })]);
    await s.idle();
    expect(hook.posts()).toHaveLength(1);
    expect(hook.puts()).toHaveLength(0);
    expect(s.stats()).toMatchObject({ uploads: 0, uploadsFailed: 1 });
  });

  it('slowUpload holds the PUT back by at least a second after the webhook', async () => {
    const s = await simWith({ slowUpload: 1 });
    const hook = await receiver();
    await post(s, [task({ webhookURL: `${hook.url}/h`, uploadEndpoint: `${hook.url}/put` })]);
    await s.idle();
    const [webhook] = hook.posts();
    const [put] = hook.puts();
    expect(put!.at - webhook!.at).toBeGreaterThanOrEqual(950);
    expect(s.stats().uploads).toBe(1);
  });
});
