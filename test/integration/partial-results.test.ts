// Per-slot outcomes on real parts (Redis, S3 server, the simulator over HTTP): every image the
// provider generated is stored, the missing slots alone are generated again (a derived provider
// taskUUID, bounded), and a task whose slots all ended is completed, partial (with per-slot reasons
// in status JSON and events) or failed. The simulator's record of what it generated is the truth.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { planRetry, retryFailedTasks } from '../../src/control/retry-failed.js';
import { parseStreamEntry, type RelayEvent } from '../../src/events/event-types.js';
import type { GeneratedResult } from '../../src/simulator/index.js';
import { readBatchStatus, readTaskStatus } from '../../src/status/read-status.js';
import { slotRetryProviderUuid, uploadSubtaskUuids } from '../../src/tasks/attempt-uuids.js';
import { wakeJob } from '../../src/tasks/wake-job.js';
import { checkInvariants, type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

const task = (extra: Record<string, unknown> = {}) => ({
  positivePrompt: 'three lighthouses at dusk',
  width: 1024,
  height: 1024,
  outputQuality: 60,
  numberResults: 3,
  taskUUID: randomUUID(),
  ...extra,
});

/** Small timers so a run takes seconds: polls soon, fetch retries in tens of ms. */
const FAST = {
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  FIRST_POLL_AFTER_MS: '400',
  MAX_POLL_INTERVAL_MS: '800',
  OUTPUT_RETRY_BASE_MS: '20',
  OUTPUT_RETRY_MAX_MS: '100',
};

let p: Pipeline | undefined;
let extra: Server | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
  await new Promise<void>((r) => (extra ? extra.close(() => r()) : r()));
  extra = undefined;
});

const successes = (rs: GeneratedResult[], providerTaskUUID: string) =>
  rs.filter((r) => r.taskUUID === providerTaskUUID && !r.error);
const errors = (rs: GeneratedResult[], providerTaskUUID: string) =>
  rs.filter((r) => r.taskUUID === providerTaskUUID && r.error);

async function events(pl: Pipeline, taskUUID: string): Promise<RelayEvent[]> {
  const entries = await pl.redis.xrange(pl.svc.tasks.keys.events(), '-', '+');
  return entries
    .map(([id, fields]) => parseStreamEntry(id, fields))
    .filter((e): e is RelayEvent => e !== null && 'taskUUID' in e && e.taskUUID === taskUUID);
}

async function settled(pl: Pipeline, batchId: string) {
  const s = await waitForBatch(pl, batchId, 30_000);
  await pl.sim.idle();
  return s;
}

describe('partial results, webhook mode', () => {
  it('one item error of three: the two good images are stored and only the missing slot is generated again', async () => {
    p = await startPipeline({ env: FAST });
    const t = task();
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 1 }]);
    const batch = await p.producer.enqueueBatch([t]);
    const s = await settled(p, batch.batchId);
    expect(s.state).toBe('completed');

    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.state).toBe('completed');
    expect(status?.outputs.map((o) => o.slot)).toEqual([0, 1, 2]);
    expect(status?.failedSlots).toEqual([]);
    const rs = p.sim.results();
    const retryUUID = slotRetryProviderUuid(t.taskUUID, 1);
    expect(successes(rs, t.taskUUID)).toHaveLength(2);
    expect(errors(rs, t.taskUUID)).toHaveLength(1);
    // Billed exactly one extra image, under the derived taskUUID; nothing else was generated.
    expect(successes(rs, retryUUID)).toHaveLength(1);
    expect(rs).toHaveLength(4);
    expect(new Set(status?.outputs.map((o) => o.imageUUID))).toEqual(
      new Set(rs.filter((r) => !r.error).map((r) => r.imageUUID)),
    );
    const [done] = await events(p, t.taskUUID);
    expect(done?.type === 'task.completed' && done.data).toMatchObject({ partial: false, failedSlots: [] });
    const retries = await p.workerSvc!.metrics.slotRetries.get();
    expect(retries.values).toEqual([expect.objectContaining({ labels: { trigger: 'auto' }, value: 1 })]);
    await checkInvariants(p, batch.batchId);
  });

  it('retries exhausted: the task ends partial, with each failed slot reason in status JSON and events', async () => {
    p = await startPipeline({ env: { ...FAST, SLOT_RETRY_ATTEMPTS: '2' } });
    const t = task();
    p.sim.failItems([
      { taskUUID: t.taskUUID, index: 1 },
      { taskUUID: slotRetryProviderUuid(t.taskUUID, 1) },
      { taskUUID: slotRetryProviderUuid(t.taskUUID, 2) },
    ]);
    const batch = await p.producer.enqueueBatch([t]);
    const s = await settled(p, batch.batchId);
    expect({ state: s.state, partial: s.partial, completed: s.completed, failed: s.failed }).toEqual({
      state: 'completed_with_failures',
      partial: 1,
      completed: 0,
      failed: 0,
    });

    const status = await readTaskStatus(p.svc, t.taskUUID);
    // The status JSON as `status --json` prints it.
    const json = JSON.parse(JSON.stringify({ kind: 'task', ...status }));
    expect(json.state).toBe('partial');
    expect(json.outputs).toHaveLength(2);
    expect(json.failedSlots).toEqual([
      { slot: 2, code: 'timeoutProvider', message: expect.any(String), stage: 'provider' },
    ]);
    expect(json.reason).toMatch(/^1 of 3 slots failed: slot 2 timeoutProvider: /);
    expect(json.jobState).toBe('completed');

    const rs = p.sim.results();
    expect(rs.filter((r) => !r.error)).toHaveLength(2); // billed 2 images, both stored
    expect(errors(rs, slotRetryProviderUuid(t.taskUUID, 1))).toHaveLength(1);
    expect(errors(rs, slotRetryProviderUuid(t.taskUUID, 2))).toHaveLength(1);
    expect(rs.some((r) => r.taskUUID === slotRetryProviderUuid(t.taskUUID, 3))).toBe(false);

    const evs = await events(p, t.taskUUID);
    expect(evs.map((e) => e.type)).toEqual(['task.completed']);
    const ev = evs[0]!;
    if (ev.type !== 'task.completed') throw new Error('unreachable');
    expect(ev.data.partial).toBe(true);
    expect(ev.data.outputs).toHaveLength(2);
    expect(ev.data.failedSlots).toEqual(json.failedSlots);
    const batchEnd = (await p.redis.xrange(p.svc.tasks.keys.events(), '-', '+'))
      .map(([id, f]) => parseStreamEntry(id, f))
      .find((e) => e?.type === 'batch.completed');
    expect(batchEnd?.data).toMatchObject({ total: 1, completed: 0, partial: 1, failed: 0 });
    const m = p.workerSvc!.metrics;
    expect((await m.slotsFailed.get()).values).toEqual([
      expect.objectContaining({ labels: { code: 'timeoutProvider' }, value: 1 }),
    ]);
    expect((await m.tasksFinished.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'partial' }, value: 1 }),
    ]);
    await checkInvariants(p, batch.batchId);
  });

  it('retry-failed on a partial task generates only its missing slot, says how many it bills, and completes it', async () => {
    p = await startPipeline({ env: { ...FAST, SLOT_RETRY_ATTEMPTS: '0' } });
    const t = task();
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 0 }]);
    const batch = await p.producer.enqueueBatch([t]);
    await settled(p, batch.batchId);
    expect((await readTaskStatus(p.svc, t.taskUUID))?.state).toBe('partial');
    const before = p.sim.results().length;

    expect(await planRetry(p.svc, batch.batchId)).toEqual({
      failedTasks: 0,
      partialTasks: 1,
      billedImages: 1,
      refetchedSlots: 0,
    });
    const r = await retryFailedTasks(p.svc, batch.batchId, {
      times: { firstPollAfterMs: 400, resultDeadlineMs: 60_000 },
    });
    expect(r).toEqual({ retried: 1, billedImages: 1, unavailable: [] });
    await until(
      async () => (await readTaskStatus(p!.svc, t.taskUUID))?.state === 'completed',
      30_000,
      'the retried task completes',
    );
    await p.sim.idle();
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.outputs.map((o) => o.slot)).toEqual([0, 1, 2]);
    expect(status?.failedSlots).toEqual([]);
    const added = p.sim.results().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ taskUUID: slotRetryProviderUuid(t.taskUUID, 1) });
    expect(added[0]?.error).toBeUndefined();
    const s = await readBatchStatus(p.svc, batch.batchId);
    expect({ state: s?.state, completed: s?.completed, partial: s?.partial }).toEqual({
      state: 'completed',
      completed: 1,
      partial: 0,
    });
    await checkInvariants(p, batch.batchId);
  });
});

describe('partial results, a final item error', () => {
  it('an item error that is not retryable fails its slot at once: no new provider task', async () => {
    p = await startPipeline({ env: FAST });
    const t = task();
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 0, code: 'contentPolicyViolation' }]);
    const batch = await p.producer.enqueueBatch([t]);
    const s = await settled(p, batch.batchId);
    expect(s.partial).toBe(1);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.failedSlots).toMatchObject([
      { slot: 2, code: 'contentPolicyViolation', stage: 'provider' },
    ]);
    expect(p.sim.results().every((r) => r.taskUUID === t.taskUUID)).toBe(true);
  });
});

describe('partial results, a slot retry that cannot be submitted', () => {
  it('after the last submit attempt the stored slots stay and the task ends partial', async () => {
    // Items take 500 ms each, so the submit fault below is in place long before the item error arrives
    // and the slot retry is tried (on a loaded host the retry could otherwise be submitted first).
    p = await startPipeline({
      sim: { latency: { minMs: 500, maxMs: 500 } },
      env: { ...FAST, SUBMIT_ATTEMPTS: '2' },
    });
    const t = task();
    p.sim.failItems([{ taskUUID: t.taskUUID, index: 2 }]);
    const batch = await p.producer.enqueueBatch([t]);
    await until(async () => (await p!.svc.tasks.get(t.taskUUID))?.state === 'submitted', 10_000, 'submitted');
    p.sim.setFaults({ submit500: 1 }); // every later request: the slot retry's submits (and polls)
    const s = await waitForBatch(p, batch.batchId, 30_000);
    expect(s.partial).toBe(1);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.outputs).toHaveLength(2);
    expect(status?.failedSlots).toMatchObject([{ slot: 2, code: 'serverError', stage: 'provider' }]);
    expect(status?.jobState).toBe('completed');
  });
});

describe('partial results, upload mode', () => {
  it('a failed subtask is generated again alone; the other uploads are recorded, none left unrecorded', async () => {
    p = await startPipeline({ env: { ...FAST, DELIVERY_MODE: 'upload' } });
    const t = task();
    const subtasks = uploadSubtaskUuids(t.taskUUID, 3);
    p.sim.failItems([{ taskUUID: subtasks[1]! }]);
    const batch = await p.producer.enqueueBatch([t]);
    const s = await settled(p, batch.batchId);
    expect(s.state).toBe('completed');
    const retried = uploadSubtaskUuids(slotRetryProviderUuid(t.taskUUID, 1), 3)[1]!;
    const rs = p.sim.results();
    expect(successes(rs, retried)).toHaveLength(1);
    expect(rs.filter((r) => !r.error)).toHaveLength(3);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.outputs.map((o) => o.slot)).toEqual([0, 1, 2]);
    await checkInvariants(p, batch.batchId); // the bucket holds exactly the recorded outputs
  });

  it('a slot that already failed does not wake its task again and again while another slot is awaited', async () => {
    p = await startPipeline({
      sim: { faults: { uploadFail: 1 } }, // slot 0's upload never lands: the worker waits, then fetches
      env: { ...FAST, DELIVERY_MODE: 'upload', SLOT_RETRY_ATTEMPTS: '0', UPLOAD_CONFIRM_TIMEOUT_MS: '3000' },
    });
    const t = task({ numberResults: 2 });
    p.sim.failItems([{ taskUUID: uploadSubtaskUuids(t.taskUUID, 2)[1]! }]);
    const batch = await p.producer.enqueueBatch([t]);
    await waitForBatch(p, batch.batchId, 30_000);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.state).toBe('partial');
    expect(status?.outputs.map((o) => o.slot)).toEqual([0]);
    // Polls of the failed subtask report its error again; each is seen once, not a wake-up loop.
    const job = await p.svc.queue.getJob(t.taskUUID);
    expect(job?.attemptsStarted ?? 0).toBeLessThan(40);
  });

  it('retries exhausted: partial, and the uploads of the good slots are recorded outputs', async () => {
    p = await startPipeline({ env: { ...FAST, DELIVERY_MODE: 'upload', SLOT_RETRY_ATTEMPTS: '1' } });
    const t = task();
    const subtasks = uploadSubtaskUuids(t.taskUUID, 3);
    const retried = uploadSubtaskUuids(slotRetryProviderUuid(t.taskUUID, 1), 3)[2]!;
    p.sim.failItems([{ taskUUID: subtasks[2]! }, { taskUUID: retried }]);
    const batch = await p.producer.enqueueBatch([t]);
    const s = await settled(p, batch.batchId);
    expect(s.partial).toBe(1);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.state).toBe('partial');
    expect(status?.outputs.map((o) => o.slot)).toEqual([0, 1]);
    expect(status?.failedSlots).toMatchObject([{ slot: 2, code: 'timeoutProvider', stage: 'provider' }]);
    await checkInvariants(p, batch.batchId);
  });
});

describe('stuck outputs', () => {
  /** A result host answering 503 while `failing`, else a real 1024×1024 JPEG; counts requests. */
  async function resultHost() {
    const image = await sharp({
      create: { width: 1024, height: 1024, channels: 3, background: { r: 10, g: 120, b: 200 } },
    })
      .jpeg()
      .toBuffer();
    const state = { failing: true, hits: 0 };
    extra = createServer((_req, res) => {
      state.hits++;
      if (state.failing) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
    });
    await new Promise<void>((r) => extra!.listen(0, '127.0.0.1', () => r()));
    return { host: `127.0.0.1:${(extra.address() as AddressInfo).port}`, state };
  }

  /** A pipeline whose real results never arrive (webhooks dropped, first poll far away). */
  async function quietPipeline(env: Record<string, string>) {
    return startPipeline({
      sim: { faults: { dropWebhook: 1 } },
      env: { ...FAST, FIRST_POLL_AFTER_MS: '600000', OUTPUT_FETCH_ATTEMPTS: '3', ...env },
    });
  }

  /** Hand the task a result with our URL, as a webhook would. */
  async function deliver(pl: Pipeline, taskUUID: string, url: string) {
    const r = await pl.svc.tasks.recordItem(taskUUID, {
      taskType: 'imageInference',
      taskUUID,
      imageUUID: randomUUID(),
      imageURL: url,
    } as never);
    expect(r.kind).toBe('new');
    await wakeJob(pl.svc.queue, taskUUID);
  }

  async function submitted(pl: Pipeline, numberResults: number) {
    const t = task({ numberResults });
    const batch = await pl.producer.enqueueBatch([t]);
    await until(async () => (await pl.svc.tasks.get(t.taskUUID))?.state === 'submitted', 10_000, 'submitted');
    return { t, batch };
  }

  it('a result URL that keeps failing ends its slot after bounded attempts, and the task ends', async () => {
    const bad = await resultHost();
    p = await quietPipeline({ FETCH_ALLOWED_HOSTS: bad.host });
    const { t, batch } = await submitted(p, 1);
    await deliver(p, t.taskUUID, `http://${bad.host}/image.jpg`);
    const s = await waitForBatch(p, batch.batchId, 20_000);
    expect(s.failed).toBe(1);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.state).toBe('failed');
    expect(status?.failedSlots).toMatchObject([{ slot: 0, code: 'OUTPUT_FETCH_FAILED', stage: 'fetch' }]);
    expect(status?.reason).toMatch(/^OUTPUT_FETCH_FAILED: HTTP 503/);
    expect(bad.state.hits).toBe(3);
    const [ended] = await events(p, t.taskUUID);
    expect(ended?.type).toBe('task.failed');
    expect(ended?.data).toMatchObject({
      failedSlots: [{ slot: 0, code: 'OUTPUT_FETCH_FAILED', stage: 'fetch' }],
    });
    const failed = await p.workerSvc!.metrics.slotsFailed.get();
    expect(failed.values).toEqual([
      expect.objectContaining({ labels: { code: 'OUTPUT_FETCH_FAILED' }, value: 1 }),
    ]);
  });

  it('a result on a host no longer allowed fails its slot at once, without a request', async () => {
    const host = await resultHost();
    p = await quietPipeline({ FETCH_ALLOWED_HOSTS: 'images.example.com' });
    const { t, batch } = await submitted(p, 1);
    await deliver(p, t.taskUUID, `http://${host.host}/image.jpg`);
    await waitForBatch(p, batch.batchId, 20_000);
    const status = await readTaskStatus(p.svc, t.taskUUID);
    expect(status?.state).toBe('failed');
    expect(status?.failedSlots).toMatchObject([{ slot: 0, code: 'OUTPUT_URL_FORBIDDEN', stage: 'fetch' }]);
    expect(host.state.hits).toBe(0);
  });

  it('retry-failed fetches a generated-but-unfetched slot again without billing a new image', async () => {
    const host = await resultHost();
    p = await quietPipeline({ FETCH_ALLOWED_HOSTS: host.host });
    const { t, batch } = await submitted(p, 2);
    host.state.failing = false;
    await deliver(p, t.taskUUID, `http://${host.host}/good.jpg`);
    await until(
      async () => (await p!.svc.tasks.storedOutputs(t.taskUUID)).length === 1,
      10_000,
      'one stored',
    );
    host.state.failing = true;
    await deliver(p, t.taskUUID, `http://${host.host}/flaky.jpg`);
    await waitForBatch(p, batch.batchId, 20_000);
    expect((await readTaskStatus(p.svc, t.taskUUID))?.failedSlots).toMatchObject([
      { slot: 1, code: 'OUTPUT_FETCH_FAILED', stage: 'fetch' },
    ]);
    expect(await planRetry(p.svc, batch.batchId)).toEqual({
      failedTasks: 0,
      partialTasks: 1,
      billedImages: 0,
      refetchedSlots: 1,
    });
    host.state.failing = false;
    const accepted = p.sim.stats().tasksAccepted;
    const r = await retryFailedTasks(p.svc, batch.batchId, {
      times: { firstPollAfterMs: 600_000, resultDeadlineMs: 60_000 },
    });
    expect(r).toEqual({ retried: 1, billedImages: 0, unavailable: [] });
    await until(
      async () => (await readTaskStatus(p!.svc, t.taskUUID))?.state === 'completed',
      20_000,
      'the task completes',
    );
    expect((await readTaskStatus(p.svc, t.taskUUID))?.outputs.map((o) => o.slot)).toEqual([0, 1]);
    expect(p.sim.stats().tasksAccepted, 'no new provider task').toBe(accepted);
  });
});
