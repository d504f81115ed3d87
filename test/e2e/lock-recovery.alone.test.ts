// Crash recovery in seconds: jobs a SIGKILLed worker held resume within the documented bound
// (LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS once a worker runs again: BullMQ's stall check marks a
// job on one pass and moves it on the next), with the default lock settings.
// The bound is the deadline of the wait, taken from the config: with BullMQ's own defaults (30 s)
// the wait would fail.
import { describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { processRelayEnv, useProcessRig } from '../helpers/process-rig.js';
import { describeOutputs, startRelayRole, startSimulatorProcess } from '../helpers/processes.js';
import { until, waitForBatchEnd } from '../helpers/relay-observer.js';

const TASKS = 6;
/** The provider answers a submit only after the task's first webhook: submits stay active this long. */
const SUBMIT_HOLD_MS = 4000;
/** Scheduling slack on a machine shared with other test runs (not part of the bound). */
const SLACK_MS = 2000;
const STEP_TIMEOUT_MS = 30_000;

const rig = useProcessRig();

describe('crash recovery bound', () => {
  it('jobs held by a SIGKILLed worker resume within LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS', async () => {
    const { env, simPort } = await processRelayEnv('lk');
    const defaults = loadConfig(env);
    const bound = defaults.LOCK_DURATION_MS + 2 * defaults.STALLED_INTERVAL_MS;
    const [sim, webhook, worker] = await Promise.all([
      startSimulatorProcess({
        port: simPort,
        latency: { minMs: SUBMIT_HOLD_MS, maxMs: SUBMIT_HOLD_MS },
        faults: { webhookBeforeAck: 1 },
      }),
      startRelayRole({ role: 'webhook', env, lockMs: 'config' }),
      startRelayRole({ role: 'worker', env, lockMs: 'config' }),
    ]);
    rig.procs.push(sim, webhook, worker);
    onTestFailed(() => console.error(describeOutputs([sim, webhook, worker])));
    const o = rig.observe(env);

    const batch = await o.producer.enqueueBatch(
      Array.from({ length: TASKS }, (_, i) => ({ positivePrompt: `lock ${i}`, width: 1024, height: 1024 })),
    );
    let held: string[] = [];
    await until(
      async () => {
        held = (await o.queue.getJobs(['active'])).map((j) => j.id!);
        return held.length > 0;
      },
      STEP_TIMEOUT_MS,
      'the worker holds jobs in their submit',
    );
    await worker.kill();
    await worker.start();
    // From the moment a worker runs again: the dead worker's locks expire and the stall check
    // hands its jobs back within the bound.
    await until(
      async () => {
        const states = await Promise.all(held.map(async (j) => (await o.queue.getJob(j))?.getState()));
        return states.every((s) => s !== 'active');
      },
      bound + SLACK_MS,
      `jobs held by the killed worker resumed within ${bound} ms`,
    );
    const stalled = await Promise.all(held.map(async (j) => (await o.queue.getJob(j))?.stalledCounter ?? 0));
    expect(stalled.every((n) => n >= 1)).toBe(true);
    const final = await waitForBatchEnd(o, batch.batchId, STEP_TIMEOUT_MS);
    expect(final).toMatchObject({ completed: TASKS, failed: 0 });
  });
});
