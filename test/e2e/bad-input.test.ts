// Bad input at every door: the producer (library and `kontext-relay enqueue`), the webhook server,
// and the result URLs a webhook body names. Each case must get a clear error and change nothing;
// every run prints a table of case → outcome.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringifyLossless } from '../../src/contract/index.js';
import { BatchValidationError, ValidationError } from '../../src/errors.js';
import { createProducer, type Producer } from '../../src/producer/create-producer.js';
import { signWebhookToken, webhookUrlFor } from '../../src/tokens/webhook-token.js';
import { testConfig, testRedisUrl, testS3Endpoint, uniqueId } from '../helpers/env.js';
import { type HostileServer, startHostileServer } from '../helpers/hostile-image-server.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { changedKeys, snapshotKeys } from '../helpers/redis-snapshot.js';
import { until } from '../helpers/relay-observer.js';
import { printTable } from '../helpers/text-table.js';

interface Row {
  case: string;
  expected: string;
  outcome: string;
  ok: boolean;
}

/** Print the cases as a table, then fail naming every case whose outcome was wrong. */
function report(title: string, rows: Row[]): void {
  printTable(
    title,
    rows.map((r) => ({ case: r.case, expected: r.expected, outcome: r.outcome, ok: r.ok ? 'yes' : 'NO' })),
  );
  expect(
    rows.filter((r) => !r.ok).map((r) => `${r.case}: expected ${r.expected}, got ${r.outcome}`),
    'cases with the wrong outcome',
  ).toEqual([]);
}

const valid = { positivePrompt: 'a quiet harbour at dawn', width: 1024, height: 1024 };
const SEED_MAX = '9223372036854775807';
const REF = 'https://example.com/ref.png';

// ------------------------------------------------------------------------------------------ producer

interface BadTask {
  name: string;
  task: unknown;
  /** The field path the error must name ('' = the whole task). */
  path: string;
}

const without = (k: keyof typeof valid) =>
  Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k));

const BAD_TASKS: BadTask[] = [
  { name: 'positivePrompt missing', task: without('positivePrompt'), path: 'positivePrompt' },
  { name: 'positivePrompt 1 character', task: { ...valid, positivePrompt: 'a' }, path: 'positivePrompt' },
  {
    name: 'positivePrompt 3001 characters',
    task: { ...valid, positivePrompt: 'x'.repeat(3001) },
    path: 'positivePrompt',
  },
  { name: 'positivePrompt a number', task: { ...valid, positivePrompt: 42 }, path: 'positivePrompt' },
  { name: 'width missing', task: without('width'), path: 'width' },
  { name: 'width 0', task: { ...valid, width: 0 }, path: 'width' },
  { name: 'width negative', task: { ...valid, width: -1024 }, path: 'width' },
  { name: 'width fractional', task: { ...valid, width: 1024.5 }, path: 'width' },
  { name: 'width a string', task: { ...valid, width: '1024' }, path: 'width' },
  { name: 'height null', task: { ...valid, height: null }, path: 'height' },
  {
    name: 'width×height 1000×1000 (not a model size)',
    task: { ...valid, width: 1000, height: 1000 },
    path: 'width',
  },
  {
    name: 'width×height 1024×1568 (sizes swapped)',
    task: { ...valid, width: 1024, height: 1568 },
    path: 'width',
  },
  { name: 'seed -1', task: { ...valid, seed: -1 }, path: 'seed' },
  { name: 'seed 2^63 (string)', task: { ...valid, seed: '9223372036854775808' }, path: 'seed' },
  { name: 'seed 2^63 (bigint)', task: { ...valid, seed: 2n ** 63n }, path: 'seed' },
  { name: 'seed 2^60 as a JS number (digits lost)', task: { ...valid, seed: 2 ** 60 }, path: 'seed' },
  { name: 'seed 1.5', task: { ...valid, seed: 1.5 }, path: 'seed' },
  { name: 'seed "12abc"', task: { ...valid, seed: '12abc' }, path: 'seed' },
  { name: 'seed true', task: { ...valid, seed: true }, path: 'seed' },
  { name: 'numberResults 0', task: { ...valid, numberResults: 0 }, path: 'numberResults' },
  { name: 'numberResults 21', task: { ...valid, numberResults: 21 }, path: 'numberResults' },
  { name: 'numberResults "2"', task: { ...valid, numberResults: '2' }, path: 'numberResults' },
  { name: 'outputType "PDF"', task: { ...valid, outputType: 'PDF' }, path: 'outputType' },
  { name: 'outputFormat "GIF"', task: { ...valid, outputFormat: 'GIF' }, path: 'outputFormat' },
  { name: 'outputQuality 19', task: { ...valid, outputQuality: 19 }, path: 'outputQuality' },
  { name: 'outputQuality 100', task: { ...valid, outputQuality: 100 }, path: 'outputQuality' },
  { name: 'outputQuality 50.5', task: { ...valid, outputQuality: 50.5 }, path: 'outputQuality' },
  { name: 'ttl 59', task: { ...valid, ttl: 59 }, path: 'ttl' },
  { name: 'includeCost "yes"', task: { ...valid, includeCost: 'yes' }, path: 'includeCost' },
  {
    name: 'safety.checkContent "true"',
    task: { ...valid, safety: { checkContent: 'true' } },
    path: 'safety.checkContent',
  },
  { name: 'safety.mode "strict"', task: { ...valid, safety: { mode: 'strict' } }, path: 'safety.mode' },
  { name: 'safety unknown key', task: { ...valid, safety: { level: 3 } }, path: 'safety.level' },
  {
    name: '0 reference images',
    task: { ...valid, inputs: { referenceImages: [] } },
    path: 'inputs.referenceImages',
  },
  {
    name: '3 reference images',
    task: { ...valid, inputs: { referenceImages: [REF, REF, REF] } },
    path: 'inputs.referenceImages',
  },
  {
    name: 'reference image not an image',
    task: { ...valid, inputs: { referenceImages: ['hello'] } },
    path: 'inputs.referenceImages.0',
  },
  {
    name: 'referenceImages a string',
    task: { ...valid, inputs: { referenceImages: REF } },
    path: 'inputs.referenceImages',
  },
  {
    name: 'top-level referenceImages (legacy place)',
    task: { ...valid, referenceImages: [REF] },
    path: 'referenceImages',
  },
  {
    name: 'safetyTolerance 7',
    task: { ...valid, providerSettings: { bfl: { safetyTolerance: 7 } } },
    path: 'providerSettings.bfl.safetyTolerance',
  },
  {
    name: 'providerSettings.bfl unknown key',
    task: { ...valid, providerSettings: { bfl: { raw: true } } },
    path: 'providerSettings.bfl.raw',
  },
  {
    name: 'providerSettings for another provider',
    task: { ...valid, providerSettings: { openai: {} } },
    path: 'providerSettings.openai',
  },
  { name: 'model unknown', task: { ...valid, model: 'bfl:9@9' }, path: 'model' },
  { name: 'unknown field', task: { ...valid, negativePrompt: 'blurry' }, path: 'negativePrompt' },
  {
    name: 'webhookURL set by the user',
    task: { ...valid, webhookURL: 'https://evil.example/hook' },
    path: 'webhookURL',
  },
  {
    name: 'deliveryMethod set by the user',
    task: { ...valid, deliveryMethod: 'sync' },
    path: 'deliveryMethod',
  },
  { name: 'taskUUID not a UUID', task: { ...valid, taskUUID: 'task-1' }, path: 'taskUUID' },
  { name: 'taskType "videoInference"', task: { ...valid, taskType: 'videoInference' }, path: 'taskType' },
  { name: 'task null', task: null, path: '' },
  { name: 'task a string', task: 'draw a cat', path: '' },
  { name: 'task an array', task: [valid], path: '' },
];

describe('bad input: the producer', () => {
  let redis: Redis;
  let producer: Producer;
  let prefix: string;
  beforeAll(() => {
    const config = testConfig();
    redis = new Redis(config.REDIS_URL);
    producer = createProducer({ connection: redis, config });
    prefix = `{${config.QUEUE_PREFIX}}`;
  });
  afterAll(async () => {
    await producer.close();
    redis.disconnect();
  });

  it('the library refuses each bad task, naming the field, and writes nothing to Redis', async () => {
    const rows: Row[] = [];
    // BullMQ writes the queue's meta key once the queue connects; wait for it, so it is no surprise.
    const meta = `${prefix}:image-inference:meta`;
    await until(async () => (await redis.exists(meta)) === 1, 5_000, 'queue meta written');
    const before = await snapshotKeys(redis, prefix);
    for (const c of BAD_TASKS) {
      let outcome: string;
      let named = false;
      try {
        const r = await producer.enqueue(c.task);
        outcome = `ACCEPTED as ${r.taskUUID}`;
      } catch (e) {
        if (e instanceof ValidationError) {
          named = e.issues.some((i) => i.path === c.path);
          outcome = `ValidationError: ${e.issues.map((i) => `${i.path || '(task)'} [${i.rule}] ${i.message}`).join('; ')}`;
        } else outcome = `unexpected ${(e as Error).name}: ${(e as Error).message}`;
      }
      const changed = changedKeys(before, await snapshotKeys(redis, prefix));
      if (changed.length) outcome += ` — Redis changed: ${changed.join(', ')}`;
      rows.push({
        case: c.name,
        expected: `refused at ${c.path || '(task)'}`,
        outcome,
        ok: named && !changed.length,
      });
    }
    // A batch is all or nothing: one bad entry refuses it, naming the entry's index.
    const batch = [valid, { ...valid, positivePrompt: 'another prompt' }, { ...valid, seed: -1 }];
    let outcome: string;
    let ok = false;
    try {
      await producer.enqueueBatch(batch);
      outcome = 'ACCEPTED';
    } catch (e) {
      outcome = `${(e as Error).name}: ${(e as Error).message}`;
      ok = e instanceof BatchValidationError && e.entries.length === 1 && e.entries[0]?.index === 2;
    }
    const changed = changedKeys(before, await snapshotKeys(redis, prefix));
    if (changed.length) outcome += ` — Redis changed: ${changed.join(', ')}`;
    rows.push({
      case: 'batch with one bad entry (#2)',
      expected: 'batch refused, entry #2 named',
      outcome,
      ok: ok && !changed.length,
    });
    // One taskUUID twice in a batch: refused like any invalid entry, naming both entries.
    const twice = randomUUID();
    let dupOutcome: string;
    let dupOk = false;
    try {
      await producer.enqueueBatch([
        { ...valid, taskUUID: twice },
        { ...valid, positivePrompt: 'another prompt', taskUUID: twice },
      ]);
      dupOutcome = 'ACCEPTED';
    } catch (e) {
      dupOutcome = `${(e as Error).name}: ${(e as Error).message}`;
      dupOk =
        e instanceof BatchValidationError &&
        e.entries.length === 1 &&
        e.entries[0]?.index === 1 &&
        /entry #0 and entry #1/.test(e.message);
    }
    const dupChanged = changedKeys(before, await snapshotKeys(redis, prefix));
    if (dupChanged.length) dupOutcome += ` — Redis changed: ${dupChanged.join(', ')}`;
    rows.push({
      case: 'batch with one taskUUID on entries #0 and #1',
      expected: 'batch refused, entry #1 named with #0',
      outcome: dupOutcome,
      ok: dupOk && !dupChanged.length,
    });
    report('producer library: bad tasks', rows);
    expect(Object.keys(before), 'nothing but the queue meta key').toEqual([meta]);
  });

  it('the library takes seeds at the limits, 0 and 2^63-1, with every digit', async () => {
    const rows: Row[] = [];
    for (const [name, seed, want] of [
      ['seed 0', 0, '0'],
      ['seed 2^53-1 as a JS number', Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)],
      ['seed 2^63-1 (string)', SEED_MAX, SEED_MAX],
      ['seed 2^63-1 (bigint)', 2n ** 63n - 1n, SEED_MAX],
    ] as const) {
      let outcome: string;
      try {
        const { taskUUID } = await producer.enqueue({ ...valid, seed });
        const job = await producer.queue.getJob(taskUUID);
        outcome = `enqueued, job seed ${job?.data.task.seed}`;
      } catch (e) {
        outcome = `refused: ${(e as Error).message}`;
      }
      rows.push({
        case: name,
        expected: `enqueued, job seed ${want}`,
        outcome,
        ok: outcome === `enqueued, job seed ${want}`,
      });
    }
    report('producer library: seeds at the limits', rows);
  });

  it('`kontext-relay enqueue` names the bad line, exits non-zero and enqueues nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kr-badcli-'));
    try {
      const line = (t: unknown) => stringifyLossless(t);
      const files = {
        malformed: [line(valid), line(valid), '{"positivePrompt": "oops", width: 1024}', line(valid)],
        invalid: [
          line(valid),
          line({ ...valid, seed: -1 }),
          line(valid),
          line({ ...valid, positivePrompt: 'x'.repeat(3001) }),
        ],
        limits: [
          '{"positivePrompt": "seed zero", "width": 1024, "height": 1024, "seed": 0}',
          `{"positivePrompt": "seed max", "width": 1024, "height": 1024, "seed": ${SEED_MAX}}`,
        ],
        beyond: [
          `{"positivePrompt": "seed 2^63", "width": 1024, "height": 1024, "seed": 9223372036854775808}`,
        ],
      };
      const paths = Object.fromEntries(
        Object.entries(files).map(([k, lines]) => {
          const p = join(dir, `${k}.jsonl`);
          writeFileSync(p, `${lines.join('\n')}\n`);
          return [k, p];
        }),
      ) as Record<keyof typeof files, string>;
      const cliEnv = (prefix: string) => ({
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: prefix,
        S3_ENDPOINT: testS3Endpoint(),
        LOG_LEVEL: 'silent',
      });
      const prefixes = {
        malformed: `kr-${uniqueId()}`,
        invalid: `kr-${uniqueId()}`,
        limits: `kr-${uniqueId()}`,
        beyond: `kr-${uniqueId()}`,
      };
      const [malformed, invalid, limits, beyond] = await Promise.all([
        runCli(['enqueue', paths.malformed], cliEnv(prefixes.malformed)),
        runCli(['enqueue', '--json', paths.invalid], cliEnv(prefixes.invalid)),
        runCli(['enqueue', '--json', paths.limits], cliEnv(prefixes.limits)),
        runCli(['enqueue', '--json', paths.beyond], cliEnv(prefixes.beyond)),
      ]);
      // Keys besides the queue's meta key (BullMQ writes it when the CLI's queue connects).
      const keysUnder = async (p: string) =>
        Object.keys(await snapshotKeys(redis, `{${p}}`)).filter((k) => !k.endsWith(':meta')).length;
      const entries = (out: string) => {
        try {
          return (
            (JSON.parse(out) as { entries?: { line?: number; issues: { path: string }[] }[] }).entries ?? []
          );
        } catch {
          return [];
        }
      };
      const rows: Row[] = [];
      const m = { code: malformed.code, keys: await keysUnder(prefixes.malformed) };
      rows.push({
        case: 'malformed JSON on line 3',
        expected: 'exit ≠ 0, "line 3" named, queue empty',
        outcome: `exit ${m.code}, ${malformed.stderr.trim().split('\n').slice(0, 2).join(' / ')}; ${m.keys} key(s)`,
        ok: m.code !== 0 && /line 3\b/.test(malformed.stderr) && m.keys === 0,
      });
      const inv = { code: invalid.code, keys: await keysUnder(prefixes.invalid), e: entries(invalid.stdout) };
      rows.push({
        case: 'seed -1 on line 2, 3001-char prompt on line 4 (--json)',
        expected: 'exit ≠ 0, lines 2 (seed) and 4 (positivePrompt), queue empty',
        outcome: `exit ${inv.code}, entries ${JSON.stringify(inv.e.map((x) => [x.line, x.issues.map((i) => i.path).join()]))}; ${inv.keys} key(s)`,
        ok:
          inv.code !== 0 &&
          inv.keys === 0 &&
          JSON.stringify(inv.e.map((x) => [x.line, x.issues.map((i) => i.path).join()])) ===
            JSON.stringify([
              [2, 'seed'],
              [4, 'positivePrompt'],
            ]),
      });
      const limitsSeeds = await jobSeeds(prefixes.limits);
      rows.push({
        case: 'bare JSON integer seeds 0 and 2^63-1',
        expected: `exit 0, job seeds 0,${SEED_MAX}`,
        outcome: `exit ${limits.code}, job seeds ${limitsSeeds.join(',')}${limits.code === 0 ? '' : `; ${limits.stdout.replace(/\s+/g, ' ').slice(0, 200)}`}`,
        ok: limits.code === 0 && limitsSeeds.join(',') === `0,${SEED_MAX}`,
      });
      const be = { code: beyond.code, keys: await keysUnder(prefixes.beyond), e: entries(beyond.stdout) };
      rows.push({
        case: 'bare JSON integer seed 2^63 on line 1',
        expected: 'exit ≠ 0, line 1 (seed), queue empty',
        outcome: `exit ${be.code}, entries ${JSON.stringify(be.e.map((x) => [x.line, x.issues.map((i) => i.path).join()]))}; ${be.keys} key(s)`,
        ok: be.code !== 0 && be.keys === 0 && be.e[0]?.line === 1 && be.e[0]?.issues[0]?.path === 'seed',
      });
      report('`kontext-relay enqueue`: bad files', rows);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    async function jobSeeds(queuePrefix: string): Promise<string[]> {
      const p = createProducer({
        connection: redis,
        config: { QUEUE_PREFIX: queuePrefix, QUEUE_NAME: 'image-inference', SUBMIT_ATTEMPTS: 1 },
      });
      try {
        const jobs = await p.queue.getJobs(['waiting', 'prioritized', 'delayed']);
        return jobs.map((j) => String(j.data.task.seed)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      } finally {
        await p.close();
      }
    }
  });
});

describe('bad input: encodings and repeated taskUUIDs', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });
  afterAll(() => redis.disconnect());

  it('`kontext-relay enqueue` strips a BOM, and refuses bad UTF-8, seed "-0" and a taskUUID on two lines, naming the lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kr-badenc-'));
    try {
      const line = (t: unknown) => Buffer.from(stringifyLossless(t));
      const uuid = randomUUID();
      const files: Record<string, Buffer[]> = {
        bom: [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), line(valid)])],
        utf8: [line(valid), Buffer.from([0x7b, 0x22, 0x70, 0xff, 0x22, 0x7d]), line(valid)],
        negzero: [
          Buffer.from('{"positivePrompt": "bare", "width": 1024, "height": 1024, "seed": -0}'),
          Buffer.from('{"positivePrompt": "string", "width": 1024, "height": 1024, "seed": "-0"}'),
        ],
        dupe: [
          line({ ...valid, taskUUID: uuid }),
          line(valid),
          line({ ...valid, positivePrompt: 'another prompt', taskUUID: uuid }),
        ],
      };
      const run = async (name: string) => {
        const path = join(dir, `${name}.jsonl`);
        writeFileSync(path, Buffer.concat(files[name]!.flatMap((b) => [b, Buffer.from('\n')])));
        const prefix = `kr-${uniqueId()}`;
        const env = {
          REDIS_URL: testRedisUrl(),
          QUEUE_PREFIX: prefix,
          S3_ENDPOINT: testS3Endpoint(),
          LOG_LEVEL: 'silent',
        };
        const r = await runCli(['enqueue', '--json', path], env);
        const keys = Object.keys(await snapshotKeys(redis, `{${prefix}}`)).filter(
          (k) => !k.endsWith(':meta'),
        );
        let out: {
          enqueued?: number;
          entries?: { line?: number; issues: { path: string; message: string }[] }[];
        } = {};
        try {
          out = JSON.parse(r.stdout);
        } catch {
          /* reported below */
        }
        const entries = (out.entries ?? []).map((e) => [e.line, e.issues.map((i) => i.path).join()]);
        const messages = (out.entries ?? []).flatMap((e) => e.issues.map((i) => i.message)).join(' | ');
        return {
          code: r.code,
          keys: keys.length,
          entries: JSON.stringify(entries),
          messages,
          enqueued: out.enqueued,
        };
      };
      const [bom, utf8, negzero, dupe] = await Promise.all(['bom', 'utf8', 'negzero', 'dupe'].map(run));
      const rows: Row[] = [
        {
          case: 'UTF-8 BOM before line 1',
          expected: 'exit 0, 1 enqueued',
          outcome: `exit ${bom!.code}, enqueued ${bom!.enqueued}`,
          ok: bom!.code === 0 && bom!.enqueued === 1,
        },
        {
          case: 'byte 0xff on line 2',
          expected: 'exit 2, line 2 "not valid UTF-8", queue empty',
          outcome: `exit ${utf8!.code}, entries ${utf8!.entries} (${utf8!.messages}); ${utf8!.keys} key(s)`,
          ok:
            utf8!.code === 2 &&
            utf8!.entries === '[[2,""]]' &&
            utf8!.messages.startsWith('not valid UTF-8 (byte 4 of the line is 0xff)') &&
            utf8!.keys === 0,
        },
        {
          case: 'seed -0 (bare) on line 1, "-0" on line 2',
          expected: 'exit 2, lines 1 and 2 (seed), queue empty',
          outcome: `exit ${negzero!.code}, entries ${negzero!.entries}; ${negzero!.keys} key(s)`,
          ok: negzero!.code === 2 && negzero!.entries === '[[1,"seed"],[2,"seed"]]' && negzero!.keys === 0,
        },
        {
          case: 'one taskUUID on lines 1 and 3',
          expected: 'exit 2, line 3 (taskUUID) naming line 1, queue empty',
          outcome: `exit ${dupe!.code}, entries ${dupe!.entries} (${dupe!.messages}); ${dupe!.keys} key(s)`,
          ok:
            dupe!.code === 2 &&
            dupe!.entries === '[[3,"taskUUID"]]' &&
            dupe!.messages.includes('line 1 and line 3') &&
            dupe!.keys === 0,
        },
      ];
      report('`kontext-relay enqueue`: encodings and repeated taskUUIDs', rows);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------------ webhooks

/** A webhook server and worker whose result fetches may reach only the hostile server (exact entry). */
const TOKEN_TTL_SEC = 3600;
const MAX_OUTPUT_BYTES = 200_000;
const SETTLE_MS = 20_000;

interface Rig {
  p: Pipeline;
  host: HostileServer;
  close(): Promise<void>;
}

/** A pipeline whose own webhooks never arrive and whose polls are far away: only our crafted calls land. */
async function startRig(allowHostile: boolean): Promise<Rig> {
  const host = await startHostileServer({ bigBytes: MAX_OUTPUT_BYTES * 3 });
  const p = await startPipeline({
    sim: { faults: { dropWebhook: 1 } },
    env: {
      FIRST_POLL_AFTER_MS: '600000',
      POLL_MIN_DELAY_MS: '600000',
      MAX_POLL_INTERVAL_MS: '600000',
      RESULT_DEADLINE_MS: '900000',
      FETCH_ALLOWED_HOSTS: allowHostile ? host.host : '',
      MAX_OUTPUT_BYTES: String(MAX_OUTPUT_BYTES),
      FETCH_TIMEOUT_MS: '5000',
    },
  });
  return {
    p,
    host,
    async close() {
      await p.close();
      await host.close();
    },
  };
}

/** Enqueue tasks and wait until each is submitted and parked (its job delayed), waiting for results. */
async function parkedTasks(p: Pipeline, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await p.producer.enqueue({ ...valid, positivePrompt: `parked ${i}` })).taskUUID);
  await until(
    async () => {
      const states = await Promise.all(
        ids.map(async (id) => `${(await p.svc.tasks.get(id))?.state}/${await p.svc.queue.getJobState(id)}`),
      );
      return states.every((s) => s === 'submitted/delayed');
    },
    SETTLE_MS,
    'tasks submitted and parked',
  );
  return ids;
}

function hookUrl(p: Pipeline, taskUUID: string, exp = Math.floor(Date.now() / 1000) + TOKEN_TTL_SEC): string {
  return webhookUrlFor(p.svc.url!, p.config.WEBHOOK_SECRET!, taskUUID, exp);
}

function item(taskUUID: string, image: Record<string, string>) {
  return { taskType: 'imageInference', taskUUID, imageUUID: randomUUID(), seed: 7, cost: 0.04, ...image };
}

async function post(url: string, body: string | Buffer, contentType = 'application/json', method = 'POST') {
  try {
    const res = await request(url, { method, headers: { 'content-type': contentType }, body });
    const text = await res.body.text();
    let code = '';
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? '';
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, code };
  } catch (e) {
    return { status: -1, code: `client error: ${(e as Error).message}` };
  }
}

async function waitEnded(p: Pipeline, ids: string[]): Promise<void> {
  await until(
    async () =>
      (await Promise.all(ids.map((id) => p.svc.tasks.get(id)))).every(
        (r) => r?.state === 'completed' || r?.state === 'failed',
      ),
    SETTLE_MS,
    'crafted tasks ended',
  );
}

describe('bad input: webhooks and result URLs through an allow-listed host', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(true);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('each refused webhook gets its status code and changes nothing in Redis or S3', async () => {
    const { p, host } = rig;
    const [parked, done] = await parkedTasks(p, 2);
    // `done` gets its one result the honest way, so a replay has something stored to collide with.
    const first = item(done!, { imageURL: `${host.url}/ok.jpg` });
    expect((await post(hookUrl(p, done!), JSON.stringify({ data: [first] }))).status).toBe(200);
    await waitEnded(p, [done!]);
    expect((await p.svc.tasks.get(done!))?.state).toBe('completed');

    const T = parked!;
    const good = JSON.stringify({ data: [item(T, { imageURL: `${host.url}/ok.jpg` })] });
    const exp = Math.floor(Date.now() / 1000) + TOKEN_TTL_SEC;
    const base = `${p.svc.url}/webhooks/runware`;
    const secret = p.config.WEBHOOK_SECRET!;
    const unknown = randomUUID();
    const cases: { name: string; send: () => ReturnType<typeof post>; status: number; code?: string }[] = [
      {
        name: 'no token, no exp',
        send: () => post(`${base}/${T}`, good),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISSING',
      },
      {
        name: 'token without exp',
        send: () => post(`${base}/${T}?token=${signWebhookToken(secret, T, exp)}`, good),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISSING',
      },
      {
        name: 'garbage token',
        send: () => post(`${base}/${T}?exp=${exp}&token=not-a-token`, good),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISMATCH',
      },
      {
        name: 'token signed with another secret',
        send: () =>
          post(
            `${base}/${T}?exp=${exp}&token=${signWebhookToken('another-secret-0123456789', T, exp)}`,
            good,
          ),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISMATCH',
      },
      {
        name: 'exp altered after signing',
        send: () => post(`${base}/${T}?exp=${exp + 1}&token=${signWebhookToken(secret, T, exp)}`, good),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISMATCH',
      },
      {
        name: 'expired token (signed, exp in the past)',
        send: () => post(hookUrl(p, T, Math.floor(Date.now() / 1000) - 60), good),
        status: 401,
        code: 'WEBHOOK_TOKEN_EXPIRED',
      },
      {
        name: 'token of another task',
        send: () => post(`${base}/${T}?exp=${exp}&token=${signWebhookToken(secret, done!, exp)}`, good),
        status: 401,
        code: 'WEBHOOK_TOKEN_MISMATCH',
      },
      {
        name: 'body names another task than the URL',
        send: () =>
          post(hookUrl(p, T), JSON.stringify({ data: [item(done!, { imageURL: `${host.url}/ok.jpg` })] })),
        status: 403,
        code: 'WEBHOOK_TASK_MISMATCH',
      },
      {
        name: 'unknown taskUUID (valid token)',
        send: () =>
          post(
            hookUrl(p, unknown),
            JSON.stringify({ data: [item(unknown, { imageURL: `${host.url}/ok.jpg` })] }),
          ),
        status: 404,
        code: 'WEBHOOK_UNKNOWN_TASK',
      },
      {
        name: 'taskUUID not a UUID',
        send: () => post(`${base}/not-a-uuid?exp=${exp}&token=x`, good),
        status: 404,
        code: 'WEBHOOK_BAD_TASK',
      },
      {
        name: 'malformed JSON',
        send: () => post(hookUrl(p, T), '{"data": [ {"taskUUID": '),
        status: 400,
        code: 'WEBHOOK_BAD_JSON',
      },
      { name: 'empty body', send: () => post(hookUrl(p, T), ''), status: 400 },
      {
        name: 'a value nested 10,000 deep in the item',
        send: () =>
          post(
            hookUrl(p, T),
            `{"data":[{"taskUUID":"${T}","imageUUID":"${randomUUID()}","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`,
          ),
        status: 400,
        code: 'WEBHOOK_BAD_JSON',
      },
      {
        name: 'JSON without a result ({})',
        send: () => post(hookUrl(p, T), '{}'),
        status: 400,
        code: 'WEBHOOK_BAD_BODY',
      },
      {
        name: 'data not an array',
        send: () => post(hookUrl(p, T), '{"data": {"imageUUID": "x"}}'),
        status: 400,
        code: 'WEBHOOK_BAD_BODY',
      },
      {
        name: 'item without imageUUID',
        send: () =>
          post(hookUrl(p, T), JSON.stringify({ data: [{ taskUUID: T, imageURL: `${host.url}/ok.jpg` }] })),
        status: 400,
        code: 'WEBHOOK_BAD_BODY',
      },
      {
        name: 'content type application/xml',
        send: () => post(hookUrl(p, T), good, 'application/xml'),
        status: 415,
        code: 'WEBHOOK_CONTENT_TYPE',
      },
      {
        name: 'content type multipart/form-data',
        send: () => post(hookUrl(p, T), good, 'multipart/form-data; boundary=x'),
        status: 415,
        code: 'WEBHOOK_CONTENT_TYPE',
      },
      {
        name: '10 MB body',
        send: () => post(hookUrl(p, T), Buffer.alloc(10 * 1024 * 1024, 0x20)),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'GET instead of POST',
        send: () => post(hookUrl(p, T), '', 'application/json', 'GET'),
        status: 405,
      },
      {
        name: 'replay of the stored item of a completed task',
        send: () => post(hookUrl(p, done!), JSON.stringify({ data: [first] })),
        status: 200,
      },
      {
        name: 'replay, flat body shape',
        send: () => post(hookUrl(p, done!), JSON.stringify(first)),
        status: 200,
      },
    ];
    const rows: Row[] = [];
    const watched = [p.svc.queue.toKey(T), p.svc.queue.toKey(done!)];
    for (const c of cases) {
      const before = await snapshotKeys(p.redis, p.svc.tasks.keys.base, watched);
      const objectsBefore = await p.svc.store.list(p.config.S3_KEY_PREFIX);
      const r = await c.send();
      // Ingest writes Redis before it answers, so anything a call changed is visible now.
      const changed = changedKeys(before, await snapshotKeys(p.redis, p.svc.tasks.keys.base, watched));
      const objectsAfter = await p.svc.store.list(p.config.S3_KEY_PREFIX);
      const s3Same = JSON.stringify(objectsBefore) === JSON.stringify(objectsAfter);
      rows.push({
        case: c.name,
        expected: `${c.status}${c.code ? ` ${c.code}` : ''}, nothing changed`,
        outcome: `${r.status}${r.code ? ` ${r.code}` : ''}${changed.length ? `, Redis changed: ${changed.join(', ')}` : ''}${s3Same ? '' : ', S3 changed'}`,
        ok: r.status === c.status && (c.code === undefined || r.code === c.code) && !changed.length && s3Same,
      });
    }
    // The parked task was never touched, and the completed one still holds its single output.
    rows.push({
      case: '(after all) parked task',
      expected: 'submitted, no items, job delayed',
      outcome: `${(await p.svc.tasks.get(T))?.state}, ${(await p.svc.tasks.receivedItems(T)).length} items, job ${await p.svc.queue.getJobState(T)}`,
      ok:
        (await p.svc.tasks.get(T))?.state === 'submitted' &&
        (await p.svc.tasks.receivedItems(T)).length === 0 &&
        (await p.svc.queue.getJobState(T)) === 'delayed',
    });
    const stored = await p.svc.tasks.storedOutputs(done!);
    const objects = await p.svc.store.list(`${p.config.S3_KEY_PREFIX}${done}/`);
    rows.push({
      case: '(after all) completed task',
      expected: '1 output, 1 object',
      outcome: `${stored.length} output(s), ${objects.length} object(s)`,
      ok: stored.length === 1 && objects.length === 1 && stored[0]?.imageUUID === first.imageUUID,
    });
    report('webhooks: refused and replayed calls', rows);
  });

  it('result URLs: forbidden redirect targets, non-images and oversized bodies fail the task with the right code; nothing stored', async () => {
    const { p, host } = rig;
    const redirect = (to: string) => `${host.url}/redirect?to=${encodeURIComponent(to)}`;
    const otherLoopback = `http://127.0.0.1:${p.sim.baseUrl.split(':').pop()}/image/x.jpg`;
    const cases: { name: string; image: Record<string, string>; want: string }[] = [
      {
        name: 'control: allow-listed host, a real JPEG',
        image: { imageURL: `${host.url}/ok.jpg` },
        want: 'completed',
      },
      {
        name: 'loopback on another port (not allow-listed)',
        image: { imageURL: otherLoopback },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'localhost (name not allow-listed)',
        image: { imageURL: `http://localhost:${host.port}/ok.jpg` },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'redirect → loopback, another port',
        image: { imageURL: redirect(otherLoopback) },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'redirect → 169.254.169.254 (metadata)',
        image: { imageURL: redirect('http://169.254.169.254/latest/meta-data/') },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'redirect → 10.0.0.7',
        image: { imageURL: redirect('http://10.0.0.7/x.jpg') },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'redirect → 192.168.1.20',
        image: { imageURL: redirect('http://192.168.1.20/x.jpg') },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'redirect → file:///etc/passwd',
        image: { imageURL: redirect('file:///etc/passwd') },
        want: 'OUTPUT_URL_FORBIDDEN',
      },
      {
        name: 'response is HTML, not an image',
        image: { imageURL: `${host.url}/not-image` },
        want: 'OUTPUT_NOT_IMAGE',
      },
      {
        name: 'JPEG magic, garbage after',
        image: { imageURL: `${host.url}/fake.jpg` },
        want: 'OUTPUT_NOT_IMAGE',
      },
      {
        name: `declared ${MAX_OUTPUT_BYTES * 3} bytes (limit ${MAX_OUTPUT_BYTES})`,
        image: { imageURL: `${host.url}/big` },
        want: 'OUTPUT_TOO_LARGE',
      },
      {
        name: `streamed ${MAX_OUTPUT_BYTES * 3} bytes, no length`,
        image: { imageURL: `${host.url}/big-stream` },
        want: 'OUTPUT_TOO_LARGE',
      },
      {
        name: 'base64 that is not base64',
        image: { imageBase64Data: '!!!not base64!!!' },
        want: 'OUTPUT_NOT_IMAGE',
      },
      {
        name: 'data URI of text/html',
        image: { imageDataURI: 'data:text/html;base64,PGgxPmhpPC9oMT4=' },
        want: 'OUTPUT_NOT_IMAGE',
      },
      { name: 'no image field at all', image: {}, want: 'OUTPUT_MISSING' },
      {
        name: 'imageURL and imageBase64Data in one item',
        image: { imageURL: `${host.url}/ok.jpg`, imageBase64Data: host.image.toString('base64') },
        want: 'OUTPUT_AMBIGUOUS',
      },
    ];
    await runResultCases(p, cases, 'result URLs through an allow-listed host');
    expect(host.hits('/ok.jpg'), 'the control image was fetched').toBeGreaterThan(0);
  });
});

/** POST one crafted webhook per case to a parked task, wait for each to end, check code and storage. */
async function runResultCases(
  p: Pipeline,
  cases: { name: string; image: Record<string, string>; want: string }[],
  title: string,
): Promise<void> {
  const ids = await parkedTasks(p, cases.length);
  const answers = await Promise.all(
    cases.map((c, i) => post(hookUrl(p, ids[i]!), JSON.stringify({ data: [item(ids[i]!, c.image)] }))),
  );
  await waitEnded(p, ids);
  const rows: Row[] = [];
  for (const [i, c] of cases.entries()) {
    const id = ids[i]!;
    const rec = await p.svc.tasks.get(id);
    const stored = await p.svc.tasks.storedOutputs(id);
    const objects = await p.svc.store.list(`${p.config.S3_KEY_PREFIX}${id}/`);
    const outcome =
      rec?.state === 'completed'
        ? `completed, ${stored.length} output(s), ${objects.length} object(s)`
        : `${rec?.state}: ${rec?.reason ?? '-'}; ${stored.length} output(s), ${objects.length} object(s)`;
    const ok =
      answers[i]?.status === 200 &&
      (c.want === 'completed'
        ? rec?.state === 'completed' && stored.length === 1 && objects.length === 1
        : rec?.state === 'failed' &&
          (rec.reason ?? '').startsWith(`${c.want}: `) &&
          stored.length === 0 &&
          objects.length === 0);
    rows.push({
      case: c.name,
      expected: c.want === 'completed' ? 'completed, 1 object' : `failed ${c.want}, nothing stored`,
      outcome: `webhook ${answers[i]?.status}; ${outcome}`,
      ok,
    });
  }
  report(title, rows);
}

describe('bad input: result URLs with no allow-list (public addresses only)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(false);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('loopback, link-local, private, credentialed and file: URLs fail the task with OUTPUT_URL_FORBIDDEN, unfetched', async () => {
    const { p, host } = rig;
    await runResultCases(
      p,
      [
        {
          name: 'loopback 127.0.0.1 (serves a real image)',
          image: { imageURL: `${host.url}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'localhost',
          image: { imageURL: `http://localhost:${host.port}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'loopback [::1]',
          image: { imageURL: `http://[::1]:${host.port}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'IPv4-mapped loopback [::ffff:127.0.0.1]',
          image: { imageURL: `http://[::ffff:127.0.0.1]:${host.port}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'decimal loopback 2130706433',
          image: { imageURL: `http://2130706433:${host.port}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: '169.254.169.254 (metadata)',
          image: { imageURL: 'http://169.254.169.254/latest/meta-data/' },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        { name: '10.0.0.7', image: { imageURL: 'http://10.0.0.7/x.jpg' }, want: 'OUTPUT_URL_FORBIDDEN' },
        {
          name: '192.168.1.20',
          image: { imageURL: 'http://192.168.1.20/x.jpg' },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        { name: '172.16.0.1', image: { imageURL: 'http://172.16.0.1/x.jpg' }, want: 'OUTPUT_URL_FORBIDDEN' },
        {
          name: '0.0.0.0',
          image: { imageURL: `http://0.0.0.0:${host.port}/ok.jpg` },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'file:///etc/passwd',
          image: { imageURL: 'file:///etc/passwd' },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
        {
          name: 'URL with credentials',
          image: { imageURL: 'http://user:pw@example.com/x.jpg' },
          want: 'OUTPUT_URL_FORBIDDEN',
        },
      ],
      'result URLs with no allow-list',
    );
    expect(host.totalHits(), 'the hostile server was never reached').toBe(0);
  });
});
