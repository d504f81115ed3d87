// `kontext-relay plan` as a real process against the simulator over HTTP: the plan prices every image,
// reads the balance with accountManagement getDetails, and exits 0 only when balance and budget cover it.
// `enqueue --plan` prints the same plan and submits nothing when it is not covered.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAccountDetails } from '../../src/contract/index.js';
import { RunwareClient } from '../../src/provider/runware-client.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { testEnv } from '../helpers/env.js';
import { startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';

let sim: Simulator;
let dir: string;
let file: string;
const env = testEnv();

beforeAll(async () => {
  sim = await startSimulator({ port: 0, balance: 10 });
  dir = await mkdtemp(join(tmpdir(), 'kr-plan-'));
  file = join(dir, 'tasks.jsonl');
  // 3 tasks, 1 + 4 + 5 = 10 images at $0.04: $0.40.
  const lines = [
    { positivePrompt: 'a red fox', width: 1024, height: 1024 },
    { positivePrompt: 'a blue whale', width: 1024, height: 1024, numberResults: 4 },
    { positivePrompt: 'a green frog', width: 1392, height: 752, numberResults: 5 },
  ];
  await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
});

afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The real CLI, as a user runs it, against the simulator; env comes from the test's own prefix. */
async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = await runCli(args, { ...env, RUNWARE_API_URL: sim.url, RUNWARE_API_KEY: 'k', ...extraEnv });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('plan before spending', () => {
  it('a plan the balance covers exits 0 and shows images, cost and balance', async () => {
    sim.setBalance(10);
    const r = await cli(['plan', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.plan).toMatchObject({ tasks: 3, images: 10, costUsd: 0.4, invalidCount: 0 });
    expect(report.balanceUsd).toBe(10);
    expect(report.verdict.ok).toBe(true);
  });

  it('a short balance exits 1 and says so', async () => {
    sim.setBalance(0.3);
    const r = await cli(['plan', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('short balance');
    expect(r.out).toContain('$0.40');
  });

  it('a plan over the budget exits 1 even when the balance covers it', async () => {
    sim.setBalance(10);
    const r = await cli(['plan', file, '--budget', '0.25']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('over budget');
  });

  it('the price table is overridable in config', async () => {
    sim.setBalance(10);
    const r = await cli(['plan', file, '--json'], { MODEL_PRICES_USD: '{"bfl:3@1": 2}' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).plan.costUsd).toBe(20);
  });

  it('invalid lines are listed with their line number and exit 2', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `{"positivePrompt":"ok","width":1024,"height":1024}\n{"width":7}\nnot json\n`);
    const r = await cli(['plan', bad]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('(line 2)');
    expect(r.out).toContain('(line 3)');
  });

  it('enqueue --plan refuses to submit an uncovered plan', async () => {
    sim.setBalance(0.1);
    const r = await cli(['enqueue', file, '--plan', '--yes', '--batch', 'never']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('short balance');
    expect(r.out).not.toContain('enqueued');
  });
});

describe('enqueue --plan', () => {
  it('without --yes and without a terminal to ask on, submits nothing', async () => {
    sim.setBalance(10);
    const r = await cli(['enqueue', file, '--plan', '--batch', 'unasked']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('covered: yes');
    expect(r.err).toContain('not submitted');
    expect(r.out).not.toContain('enqueued');
  });

  it('with --yes submits a covered plan after printing it', async () => {
    sim.setBalance(10);
    const r = await cli(['enqueue', file, '--plan', '--yes', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('covered: yes');
    expect(JSON.parse(r.out)).toMatchObject({ total: 3, enqueued: 3 });
  });
});

describe('simulator account', () => {
  it('billed images draw the getDetails balance down', async () => {
    const p = await startPipeline({ sim: { balance: 5 } });
    try {
      const client = new RunwareClient({ url: p.sim.url, apiKey: 'k' });
      expect((await client.getAccountDetails()).balance).toBe(5);
      const b = await p.producer.enqueueBatch([
        { positivePrompt: 'one', width: 1024, height: 1024, numberResults: 3 },
        { positivePrompt: 'two', width: 1024, height: 1024 },
      ]);
      await waitForBatch(p, b.batchId);
      const after = await client.getAccountDetails();
      expect(after.balance).toBeCloseTo(5 - 4 * 0.04, 6);
      expect(after.usage).toMatchObject({ total: { requests: 4 } });
      await client.close();
    } finally {
      await p.close();
    }
  });

  it('every plausible getDetails envelope yields the balance', () => {
    expect(parseAccountDetails({ data: [{ taskType: 'accountManagement', balance: 12.5 }] })?.balance).toBe(
      12.5,
    );
    expect(parseAccountDetails({ data: { balance: '3.25' } })?.balance).toBe(3.25);
    expect(parseAccountDetails({ balance: 1 })?.balance).toBe(1);
    expect(parseAccountDetails({ data: [{ details: { balance: 7 } }] })?.balance).toBe(7);
    expect(parseAccountDetails({ data: [{ usage: {} }] })).toBeUndefined();
  });
});
