// The provider client against the simulator over real HTTP: every outcome maps to the right value or
// typed error, and wide seeds reach the provider unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderTask } from '../../src/contract/index.js';
import { ProviderError } from '../../src/errors.js';
import { RunwareClient } from '../../src/provider/runware-client.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { freePort } from '../helpers/free-port.js';

let sim: Simulator;
let client: RunwareClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: 'k', latency: { minMs: 100, maxMs: 100 } });
  client = new RunwareClient({ url: sim.url, apiKey: 'k', timeoutMs: 5000 });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});

const task = (extra: Partial<ProviderTask> = {}): ProviderTask => ({
  taskType: 'imageInference',
  taskUUID: crypto.randomUUID(),
  model: 'bfl:3@1',
  positivePrompt: 'a quiet harbour at dawn',
  width: 1024,
  height: 1024,
  deliveryMethod: 'async',
  ...extra,
});

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

async function pollUntil(taskUUID: string, done: (states: string[]) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const items = await client.getResponse(taskUUID);
    const states = items.map((i) => i.state);
    if (done(states) || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe('RunwareClient against the simulator', () => {
  it('an async submit is accepted and getResponse shows each item processing, then success', async () => {
    const t = task({ numberResults: 3 });
    expect(await client.submit(t)).toEqual({ kind: 'accepted', status: 200 });
    const first = await client.getResponse(t.taskUUID);
    expect(first.map((i) => i.state)).toEqual(['processing', 'processing', 'processing']);
    const items = await pollUntil(t.taskUUID, (s) => s.every((x) => x === 'success'));
    expect(items).toHaveLength(3);
    for (const i of items) if (i.state === 'success') expect(i.result.imageUUID).toBeTruthy();
  });

  it('a seed of 2^63-1 reaches the provider unchanged and comes back exact', async () => {
    const t = task({ seed: '9223372036854775807' });
    await client.submit(t);
    const [item] = await pollUntil(t.taskUUID, (s) => s[0] === 'success');
    expect(item?.state === 'success' && item.result.seed).toBe('9223372036854775807');
    expect(sim.results().find((r) => r.taskUUID === t.taskUUID)?.seed).toBe('9223372036854775807');
  });

  it('a resubmitted taskUUID is reported as already accepted, not as a failure', async () => {
    const t = task();
    await client.submit(t);
    expect(await client.submit(t)).toMatchObject({ kind: 'alreadyAccepted' });
  });

  it('a provider validation error is final and names the parameter', async () => {
    const e = await providerError(client.submit(task({ width: 1000 })));
    expect(e).toMatchObject({
      category: 'validation',
      retryable: false,
      providerCode: 'invalidWidth',
      parameter: 'width',
    });
  });

  it('a wrong API key is an auth error that is not retried', async () => {
    const bad = new RunwareClient({ url: sim.url, apiKey: 'wrong' });
    const e = await providerError(bad.submit(task()));
    expect(e).toMatchObject({
      category: 'auth',
      retryable: false,
      providerCode: 'invalidApiKey',
      httpStatus: 401,
    });
    await bad.close();
  });

  it.each([
    ['submit429', 'rateLimit', 429],
    ['submit500', 'serverError', 500],
    ['submit503', 'provider', 503],
    ['submit504', 'timeout', 504],
  ] as const)('%s is a retryable %s error', async (fault, category, status) => {
    sim.setFaults({ [fault]: 1 });
    try {
      const e = await providerError(client.submit(task()));
      expect(e).toMatchObject({ category, retryable: true, httpStatus: status });
    } finally {
      sim.setFaults({ [fault]: 0 });
    }
  });

  it('an item error shows in getResponse as an error state with the provider code', async () => {
    sim.setFaults({ itemError: 1 });
    const t = task();
    try {
      await client.submit(t);
      const items = await pollUntil(t.taskUUID, (s) => s.includes('error'));
      expect(items.find((i) => i.state === 'error')).toMatchObject({ error: { code: 'timeoutProvider' } });
    } finally {
      sim.setFaults({ itemError: 0 });
    }
  });

  it('an unknown taskUUID polls as no items', async () => {
    expect(await client.getResponse(crypto.randomUUID())).toEqual([]);
  });

  it('a connection refused is a retryable connection error', async () => {
    const dead = new RunwareClient({
      url: `http://127.0.0.1:${await freePort()}/v1`,
      apiKey: 'k',
      timeoutMs: 2000,
    });
    const e = await providerError(dead.submit(task()));
    expect(e).toMatchObject({ category: 'connection', retryable: true });
    await dead.close();
  });
});
