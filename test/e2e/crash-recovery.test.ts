// Crash recovery with real processes: a worker process and a webhook-server process run a batch
// against a simulator process; both are SIGKILLed mid-batch and restarted. Durable state in Redis,
// job locks, the provider's webhook retries and polling must bring every task home exactly once.
import { describe, expect, it, onTestFailed } from 'vitest';
import { readBatchStatus } from '../../src/status/read-status.js';
import { checkRunInvariants, expectInvariants } from '../helpers/invariants-table.js';
import { processRelayEnv, useProcessRig } from '../helpers/process-rig.js';
import { describeOutputs, startRelayRole, startSimulatorProcess } from '../helpers/processes.js';
import { ended, until, waitForBatchEnd } from '../helpers/relay-observer.js';
import { printTable } from '../helpers/text-table.js';

const TASKS = 60;
/** Submits per second: spreads the batch out so the kills land in the middle of it. */
const SUBMIT_RATE = 12;
const LOCK_MS = 3000;
/** Failed webhook attempts to see while the webhook server is down, before it comes back. */
const REFUSED_WEBHOOKS = 3;
const STEP_TIMEOUT_MS = 30_000;
const BATCH_TIMEOUT_MS = 60_000;

const rig = useProcessRig();

const task = (i: number) => ({
  positivePrompt: `crash recovery prompt ${i}`,
  width: 1024,
  height: 1024,
  numberResults: i % 4 === 0 ? 3 : i % 4 === 1 ? 2 : 1,
  outputQuality: 60,
});

const ITEMS = Array.from({ length: TASKS }, (_, i) => task(i).numberResults).reduce((a, b) => a + b);

describe('crash recovery with real processes', () => {
  it('a batch survives SIGKILL of the worker and of the webhook server: nothing lost, nothing stored twice', async () => {
    const started = Date.now();
    const secs = () => ((Date.now() - started) / 1000).toFixed(1);
    const { env, simPort } = await processRelayEnv('cr', {
      SUBMIT_RATE_MAX: String(SUBMIT_RATE),
      SUBMIT_RATE_DURATION_MS: '1000',
    });
    const [sim, webhook, worker] = await Promise.all([
      startSimulatorProcess({ port: simPort, latency: { minMs: 200, maxMs: 800 } }),
      startRelayRole({ role: 'webhook', env, lockMs: LOCK_MS }),
      startRelayRole({ role: 'worker', env, lockMs: LOCK_MS }),
    ]);
    rig.procs.push(sim, webhook, worker);
    const tReady = secs();
    const mine = [sim, webhook, worker];
    onTestFailed(() => console.error(describeOutputs(mine)));
    const o = rig.observe(env);

    const batch = await o.producer.enqueueBatch(Array.from({ length: TASKS }, (_, i) => task(i)));
    expect(batch.total).toBe(TASKS);

    // 1. The worker dies early in the batch: a few tasks submitted and parked or active, most not yet
    //    submitted. Its active jobs keep their locks until they expire; the fresh worker resumes them.
    await until(async () => (await sim.admin.stats()).webhooksSent >= 3, STEP_TIMEOUT_MS, 'first webhooks');
    const jobsAtWorkerKill = await o.queue.getJobCounts('active', 'delayed', 'waiting', 'completed');
    await worker.kill();
    const acceptedAtWorkerKill = (await sim.admin.stats()).tasksAccepted;
    const tWorkerKill = secs();
    await worker.start();

    // 2. The webhook server dies while the provider still has results to deliver: deliveries are
    //    refused (and retried by the provider) until it is back; polling recovers what is given up.
    await until(
      async () => (await sim.admin.stats()).tasksAccepted >= acceptedAtWorkerKill + 5,
      STEP_TIMEOUT_MS,
      'the restarted worker submits again',
    );
    const atWebhookKill = await readBatchStatus(o, batch.batchId);
    const simAtWebhookKill = await sim.admin.stats();
    await webhook.kill();
    const tWebhookKill = secs();
    const refused = async () => {
      const s = await sim.admin.stats();
      const before = simAtWebhookKill.webhookAttempts - simAtWebhookKill.webhooksSent;
      return s.webhookAttempts - s.webhooksSent - before;
    };
    await until(
      async () => (await refused()) >= REFUSED_WEBHOOKS,
      STEP_TIMEOUT_MS,
      'webhooks refused while down',
    );
    await webhook.start();

    const final = await waitForBatchEnd(o, batch.batchId, BATCH_TIMEOUT_MS);
    await sim.admin.idle(); // late and duplicate deliveries land before we look
    const stats = await sim.admin.stats();
    const resumedAfterStall = (await o.queue.getJobs(['completed', 'failed'], 0, -1)).filter(
      (j) => j.stalledCounter > 0,
    ).length;
    const { rows, facts } = await checkRunInvariants(o, batch.batchId, await sim.admin.results());

    printTable('crash recovery: what happened', [
      { event: 'processes ready', t: tReady },
      {
        event: 'worker SIGKILL',
        t: tWorkerKill,
        atEnded: jobsAtWorkerKill.completed,
        of: TASKS,
        providerAccepted: acceptedAtWorkerKill,
        jobs: `${jobsAtWorkerKill.active} active, ${jobsAtWorkerKill.delayed} parked, ${jobsAtWorkerKill.waiting} waiting`,
      },
      {
        event: 'webhook server SIGKILL',
        t: tWebhookKill,
        atEnded: ended(atWebhookKill),
        of: TASKS,
        providerAccepted: simAtWebhookKill.tasksAccepted,
        refused: await refused(),
      },
      {
        event: 'batch end',
        t: secs(),
        atEnded: ended(final),
        of: TASKS,
        state: final.state,
        resumedAfterStall,
        webhookRetries: stats.webhookRetries,
        polls: stats.polls,
        objects: facts.objects,
      },
    ]);
    expectInvariants('crash recovery: invariants', rows);
    // The kills really happened mid-batch, and no fault other than the kills was injected.
    expect(acceptedAtWorkerKill).toBeLessThan(TASKS);
    expect(simAtWebhookKill.itemsGenerated).toBeLessThan(ITEMS);
    expect(worker.starts).toBe(2);
    expect(webhook.starts).toBe(2);
    expect(final).toMatchObject({ state: 'completed', completed: TASKS, failed: 0 });
    expect(facts.outputs).toBe(
      Array.from({ length: TASKS }, (_, i) => task(i).numberResults).reduce((a, b) => a + b),
    );
  }, 150_000);
});
