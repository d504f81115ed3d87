// Chaos: a batch runs through real worker and webhook processes while the simulator injects every
// fault at once and the harness SIGKILLs the processes, restarts a private AOF Redis and takes the S3
// server away. Afterwards every invariant must hold. SOAK=1 (npm run test:soak) runs the long version.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { validateTaskInput } from '../../src/contract/index.js';
import type { FaultRates } from '../../src/simulator/index.js';
import { readBatchStatus, readBatchTasks, type TaskStatus } from '../../src/status/read-status.js';
import { uploadSubtaskUuids } from '../../src/tasks/attempt-uuids.js';
import { JOB_NAME } from '../../src/tasks/job-data.js';
import { taskJobOptions } from '../../src/tasks/job-options.js';
import { testSecret, uniqueId } from '../helpers/env.js';
import { freePort } from '../helpers/free-port.js';
import { checkRunInvariants, expectInvariants } from '../helpers/invariants-table.js';
import { startPipeline } from '../helpers/pipeline.js';
import {
  describeOutputs,
  type ManagedProcess,
  relayEnv,
  type SimulatorProcess,
  startRelayRole,
  startSimulatorProcess,
  stopAll,
} from '../helpers/processes.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { ended, isFinished, openObserver, type RelayObserver, until } from '../helpers/relay-observer.js';
import { checkRerunInvariant } from '../helpers/rerun-invariant.js';
import { type RestartableS3, startRestartableS3 } from '../helpers/restartable-s3.js';
import { printTable } from '../helpers/text-table.js';

const SOAK = process.env.SOAK === '1';

interface Plan {
  tasks: number;
  /** Worker job activations per second (BullMQ limiter): stretches the batch over the chaos. */
  rate: number;
  latency: { minMs: number; maxMs: number };
  /** Chaos actions to run at least (cycling through every kind); the soak keeps going until the end. */
  actions: number;
  /** Pause between the end of one action and the start of the next (the first waits for a result). */
  gapMs: number;
  redisDownMs: number;
  s3DownMs: number;
  s3DownMaxMs: number;
  /** Longest wait for refused deliveries while the webhook server is down. */
  webhookDownMaxMs: number;
  batchTimeoutMs: number;
}

const PLAN: Plan = SOAK
  ? {
      tasks: Number(process.env.SOAK_TASKS ?? 2000),
      rate: 60,
      latency: { minMs: 50, maxMs: 400 },
      actions: 16,
      gapMs: 6_000,
      redisDownMs: 1_500,
      s3DownMs: 4_000,
      s3DownMaxMs: 10_000,
      webhookDownMaxMs: 4_000,
      batchTimeoutMs: 25 * 60_000,
    }
  : {
      tasks: 70,
      rate: 10,
      latency: { minMs: 100, maxMs: 500 },
      actions: 4,
      gapMs: 1_000,
      redisDownMs: 500,
      s3DownMs: 2_000,
      s3DownMaxMs: 6_000,
      webhookDownMaxMs: 2_500,
      batchTimeoutMs: 90_000,
    };

const FAULTS: Partial<FaultRates> = {
  submit429: 0.08,
  submit500: 0.04,
  submit503: 0.04,
  submit504: 0.04,
  dropWebhook: 0.2,
  duplicateWebhook: 0.3,
  reorderWebhooks: 0.3,
  webhookBeforeAck: 0.2,
  flatWebhookBody: 0.2,
  itemError: 0.03,
  uploadFail: 0.2,
  slowUpload: 0.3,
};
/** The only failures a run may have: the injected item errors (failed tasks, and partial tasks' slots). */
const INJECTED_FAILURE = /^timeoutProvider: /;
const LOCK_MS = 3000;
const POLL_MS = 100;

interface Harness {
  redis: PrivateRedis;
  s3: RestartableS3;
  sim: SimulatorProcess;
  webhook: ManagedProcess;
  worker: ManagedProcess;
  obs: RelayObserver;
}

let h: Partial<Harness> = {};
afterEach(async () => {
  await stopAll(h.worker, h.webhook, h.sim);
  await h.obs?.close();
  await h.s3?.stop();
  await h.redis?.stop();
  h = {};
});

async function startHarness(mode: 'webhook' | 'upload'): Promise<Harness> {
  const redis = await startRedis({ aof: true });
  h.redis = redis;
  const s3 = await startRestartableS3();
  h.s3 = s3;
  const id = uniqueId('ch');
  const simPort = await freePort();
  const env = relayEnv({
    redisUrl: redis.url,
    s3Endpoint: s3.endpoint,
    providerUrl: `http://127.0.0.1:${simPort}/v1`,
    webhookPort: await freePort(),
    queuePrefix: `kr-${id}`,
    bucket: `b-${id}`,
    secret: testSecret(),
    extra: {
      DELIVERY_MODE: mode,
      SUBMIT_RATE_MAX: String(PLAN.rate),
      SUBMIT_RATE_DURATION_MS: '1000',
      ...(SOAK ? { WORKER_CONCURRENCY: '32', LOG_LEVEL: 'info' } : {}),
    },
  });
  const [sim, webhook, worker] = await Promise.all([
    startSimulatorProcess({ port: simPort, latency: PLAN.latency, faults: FAULTS }),
    startRelayRole({ role: 'webhook', env, lockMs: LOCK_MS }),
    startRelayRole({ role: 'worker', env, lockMs: LOCK_MS }),
  ]);
  Object.assign(h, { sim, webhook, worker });
  const obs = openObserver(env);
  h.obs = obs;
  return { redis, s3, sim, webhook, worker, obs };
}

interface Action {
  name: string;
  /** Returns what it saw, for the report. */
  run(x: Harness): Promise<string>;
}

const ACTIONS: Action[] = [
  {
    name: 'SIGKILL worker, restart',
    async run({ worker, obs }) {
      const active = await obs.queue.getActiveCount();
      await worker.kill();
      await worker.start();
      return `${active} job(s) active at the kill`;
    },
  },
  {
    name: 'S3 server down, back on the same port and directory',
    async run({ s3, worker, sim }) {
      const felt = async () =>
        worker.count('storing an output failed') + (await sim.admin.stats()).uploadsFailed;
      const before = await felt();
      const downAt = Date.now();
      await s3.down();
      // The outage lasts at least s3DownMs, longer (up to s3DownMaxMs) until someone hits it.
      await sleep(PLAN.s3DownMs);
      while (Date.now() - downAt < PLAN.s3DownMaxMs && (await felt()) === before) await sleep(POLL_MS);
      await s3.start();
      return `down ${Date.now() - downAt} ms, ${(await felt()) - before} store/upload failure(s) meanwhile`;
    },
  },
  {
    name: 'SIGKILL webhook server, restart',
    async run({ webhook, sim }) {
      const failedAttempts = async () => {
        const s = await sim.admin.stats();
        return s.webhookAttempts - s.webhooksSent;
      };
      const before = await failedAttempts();
      await webhook.kill();
      const deadline = Date.now() + PLAN.webhookDownMaxMs;
      while (Date.now() < deadline && (await failedAttempts()) - before < 2) await sleep(POLL_MS);
      const refused = (await failedAttempts()) - before;
      await webhook.start();
      return `${refused} delivery attempt(s) refused while down`;
    },
  },
  {
    name: 'SIGKILL redis-server (AOF), restart',
    async run({ redis }) {
      await redis.restart({ downMs: PLAN.redisDownMs });
      return `down ${PLAN.redisDownMs} ms`;
    },
  },
];

/**
 * Run the chaos actions while the batch runs, one after another with a short pause, starting once
 * the first task ended (the batch is flowing); the soak keeps cycling until the batch ends.
 */
async function runChaos(x: Harness, batchId: string, total: number, started: number) {
  const log: Record<string, unknown>[] = [];
  let last = 0;
  for (let i = 0; ; ) {
    const s = await readBatchStatus(x.obs, batchId);
    if (isFinished(s) || (i >= PLAN.actions && !SOAK)) break;
    const due = i === 0 ? ended(s) >= 1 : Date.now() - last >= PLAN.gapMs;
    if (!due) {
      await sleep(POLL_MS);
      continue;
    }
    const action = ACTIONS[i % ACTIONS.length]!;
    const t = ((Date.now() - started) / 1000).toFixed(1);
    const detail = await action.run(x);
    log.push({ '#': i + 1, t, action: action.name, endedBefore: `${ended(s)}/${total}`, detail });
    last = Date.now();
    i++;
  }
  return log;
}

/** For a broken run: the odd tasks with their record, job history and every log line about them. */
async function explainTasks(x: Harness, batchId: string, odd: (t: TaskStatus) => boolean): Promise<void> {
  const tasks = (await readBatchTasks(x.obs, batchId, 0, 1_000_000)).filter(odd).slice(0, 3);
  const results = await x.sim.admin.results();
  for (const t of tasks) {
    const [job, rec, items] = await Promise.all([
      x.obs.queue.getJob(t.taskUUID),
      x.obs.tasks.get(t.taskUUID),
      x.obs.tasks.receivedItems(t.taskUUID),
    ]);
    const ids = [t.taskUUID, ...(rec?.subtasks ?? [])];
    const lines = [x.worker, x.webhook]
      .flatMap((p) => p.output().split('\n'))
      .filter((l) => ids.some((id) => l.includes(id)))
      .map((l) => l.slice(0, 500));
    console.error(
      [
        `task ${t.taskUUID} ${t.state}/${t.jobState}: ${t.reason}`,
        `record: ${JSON.stringify(rec)}`,
        `received: ${JSON.stringify(items.map((i) => ({ slot: i.slot, imageUUID: i.item.imageUUID })))}`,
        `stored: ${JSON.stringify(t.outputs.map((o) => ({ slot: o.slot, key: o.key })))}`,
        `provider: ${JSON.stringify(results.filter((r) => ids.includes(r.taskUUID)))}`,
        `job: attemptsMade=${job?.attemptsMade} attemptsStarted=${job?.attemptsStarted} stalled=${job?.stalledCounter} delay=${job?.delay} ts=${job?.timestamp}`,
        `stacktrace: ${(job?.stacktrace ?? []).map((s) => s.split('\n').slice(0, 4).join(' / ')).join('\n  ')}`,
        `log lines:\n  ${lines.join('\n  ')}`,
      ].join('\n'),
    );
  }
}

const task = (i: number) => ({
  positivePrompt: `chaos prompt ${i}`,
  width: 1024,
  height: 1024,
  numberResults: i % 5 === 0 ? 3 : i % 5 === 1 ? 2 : 1,
  outputQuality: 50,
  ...(i % 7 === 0 ? { outputFormat: 'PNG' } : {}),
});

describe.each(['webhook', 'upload'] as const)('chaos, %s delivery', (mode) => {
  it(
    `every task ends exactly once under faults, process kills, a Redis restart and an S3 outage${SOAK ? ' (soak)' : ''}`,
    async () => {
      const started = Date.now();
      const x = await startHarness(mode);
      const procs = [x.sim, x.webhook, x.worker];
      onTestFailed(() => console.error(describeOutputs(procs)));
      const batch = await x.obs.producer.enqueueBatch(Array.from({ length: PLAN.tasks }, (_, i) => task(i)));
      expect(batch.total).toBe(PLAN.tasks);

      const log = await runChaos(x, batch.batchId, PLAN.tasks, started);
      // The user runs the same batch again after the chaos (the batch may still be running): no-op.
      const rerun = await x.obs.producer.enqueueBatch(
        Array.from({ length: PLAN.tasks }, (_, i) => task(i)),
        { batchId: batch.batchId },
      );
      const deadline = Date.now() + PLAN.batchTimeoutMs;
      let final = await readBatchStatus(x.obs, batch.batchId);
      while (!isFinished(final)) {
        if (Date.now() > deadline) {
          const jobs = await x.obs.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
          await explainTasks(x, batch.batchId, (t) => t.state !== 'completed' && t.state !== 'failed');
          throw new Error(`batch did not end: ${JSON.stringify(final)}; jobs ${JSON.stringify(jobs)}`);
        }
        await sleep(POLL_MS);
        final = await readBatchStatus(x.obs, batch.batchId);
      }
      await x.sim.admin.idle(); // late, duplicate and retried deliveries land before we look
      const stats = await x.sim.admin.stats();
      const { rows, facts } = await checkRunInvariants(x.obs, batch.batchId, await x.sim.admin.results(), {
        allowedFailure: INJECTED_FAILURE,
      });
      rows.push(await checkRerunInvariant(x.obs, batch.batchId, rerun, await x.sim.admin.results()));

      printTable(`chaos (${mode} delivery, ${PLAN.tasks} tasks): actions`, log);
      printTable(`chaos (${mode} delivery): what the run went through`, [
        {
          seconds: Math.round((Date.now() - started) / 1000),
          completed: facts.completed,
          partial: facts.partial,
          failed: facts.failed,
          objects: facts.objects,
          leftByFailedTasks: facts.leftByFailedTasks,
          submitFaults: stats.submitFaults,
          webhooksDropped: stats.webhooksDropped,
          duplicated: stats.webhooksDuplicated,
          webhookRetries: stats.webhookRetries,
          polls: stats.polls,
          uploads: stats.uploads,
          uploadsFailed: stats.uploadsFailed,
          itemErrors: facts.providerErrors,
          storageRetries: x.worker.count('storing an output failed'),
          recoveredByPolling: x.worker.count('results recovered by polling'),
        },
      ]);
      if (rows.some((r) => !r.holds))
        await explainTasks(
          x,
          batch.batchId,
          (t) => t.state !== 'completed' && !INJECTED_FAILURE.test(t.reason ?? ''),
        );
      expectInvariants(`chaos (${mode} delivery): invariants`, rows);
      // Every kind of chaos happened, mid-batch, and the faults were really injected.
      expect(new Set(log.map((l) => l.action)).size, 'every kind of chaos action ran').toBe(ACTIONS.length);
      expect(stats.submitFaults).toBeGreaterThan(0);
      expect(stats.webhooksDuplicated).toBeGreaterThan(0);
      expect(facts.completed).toBeGreaterThan(0);
      if (mode === 'upload') expect(stats.uploadsFailed).toBeGreaterThan(0);
    },
    PLAN.batchTimeoutMs + 120_000,
  );
});

describe('chaos, targeted', () => {
  // Found by the chaos run: the provider's request-level errors (429/503/504, no taskUUID) answer the
  // poll request, not the task; a poll that gets one must poll again, not fail the task for good.
  it.each([
    ['submit429', 'rateLimitExceeded'],
    ['submit503', 'providerUnavailable'],
    ['submit504', 'failedTaskTimeout'],
  ] as const)('a poll answered by %s (%s) is retried, and the task still completes', async (fault, _code) => {
    const p = await startPipeline({
      sim: { faults: { dropWebhook: 1 } },
      env: { FIRST_POLL_AFTER_MS: '200', MAX_POLL_INTERVAL_MS: '400' },
    });
    try {
      const { taskUUID } = await p.producer.enqueue(task(1));
      // Submitted (the fault would refuse the submit itself), results made but never delivered.
      await until(async () => (await p.svc.tasks.get(taskUUID))?.state === 'submitted', 10_000, 'submitted');
      await p.sim.idle();
      const pollsBefore = p.sim.stats().polls;
      p.sim.setFaults({ [fault]: 1 });
      const ended = async () =>
        ['completed', 'failed'].includes((await p.svc.tasks.get(taskUUID))?.state ?? '');
      await until(
        async () => p.sim.stats().submitFaults >= 2 || (await ended()),
        10_000,
        'polls answered with the fault',
      );
      p.sim.setFaults({ [fault]: 0 });
      await until(ended, 10_000, 'the task ends');
      const rec = await p.svc.tasks.get(taskUUID);
      expect(rec?.reason ?? null, 'no failure reason').toBeNull();
      expect(rec?.state).toBe('completed');
      expect(p.sim.stats().polls).toBeGreaterThan(pollsBefore);
    } finally {
      await p.close();
    }
  });

  // Found by the chaos run (upload mode): the record and its subtask aliases were written in two
  // steps, the aliases only when the record was new. A worker killed (or a Redis connection lost)
  // between the two left a record without aliases for good: every webhook and poll result of the
  // subtasks was 'unknown', and the task hung until its deadline although the provider delivered.
  it('upload mode: a crash between creating the record and its subtask aliases does not strand the task', async () => {
    const p = await startPipeline({
      env: { DELIVERY_MODE: 'upload', FIRST_POLL_AFTER_MS: '300', MAX_POLL_INTERVAL_MS: '600' },
    });
    try {
      const t = { ...task(1), numberResults: 2, taskUUID: randomUUID() };
      const subtasks = uploadSubtaskUuids(t.taskUUID, 2);
      // The state such a crash leaves: the record exists ('submitting'), its aliases do not.
      await p.svc.tasks.create({
        taskUUID: t.taskUUID,
        jobId: t.taskUUID,
        batchId: undefined,
        mode: 'upload',
        expected: 2,
        subtasks,
      });
      await p.redis.del(...subtasks.map((s) => p.svc.tasks.keys.task(s)));
      // The job runs again (as after the crash); the producer would refuse it, the record exists.
      const { taskUUID: _, ...rest } = t;
      await p.svc.queue.add(
        JOB_NAME,
        { task: { ...validateTaskInput(rest), taskUUID: t.taskUUID }, enqueuedAt: Date.now() },
        taskJobOptions(t.taskUUID, 3),
      );
      const ended = async () =>
        ['completed', 'failed'].includes((await p.svc.tasks.get(t.taskUUID))?.state ?? '');
      await until(ended, 15_000, 'the task ends').catch(() => undefined);
      const rec = await p.svc.tasks.get(t.taskUUID);
      const stored = await p.svc.tasks.storedOutputs(t.taskUUID);
      expect({ state: rec?.state, outputs: stored.length }).toEqual({ state: 'completed', outputs: 2 });
    } finally {
      await p.close();
    }
  });
});
