// Fair share (issue 14) with real processes: two worker processes share MAX_IN_FLIGHT; one is
// SIGKILLed while the slots are full. Its admitted tasks keep their slots through BullMQ's stalled-job
// recovery (admission is idempotent), a slot leaked by a crash between a task's end and its release
// comes back through the sweep, and the batch completes without ever exceeding the cap.
import { describe, expect, it, onTestFailed } from 'vitest';
import { readBatchTasks } from '../../src/status/read-status.js';
import { uniqueId } from '../helpers/env.js';
import { maxOverlap } from '../helpers/fair-share.js';
import { processRelayEnv, useProcessRig } from '../helpers/process-rig.js';
import { describeOutputs, startRelayRole, startSimulatorProcess } from '../helpers/processes.js';
import { until, waitForBatchEnd } from '../helpers/relay-observer.js';

const CAP = 6;
const TASKS = 60;
const LOCK_MS = 3000;
const STEP_TIMEOUT_MS = 30_000;
const BATCH_TIMEOUT_MS = 90_000;

const rig = useProcessRig();

describe('fair share: crash of a worker holding admitted slots', () => {
  it('SIGKILL of one of two workers: its slots come back and the batch completes within the cap', async () => {
    const id = uniqueId('fs');
    const { env, simPort } = await processRelayEnv('fs', { MAX_IN_FLIGHT: String(CAP) });
    const [sim, webhook, w1, w2] = await Promise.all([
      startSimulatorProcess({ port: simPort, latency: { minMs: 300, maxMs: 900 } }),
      startRelayRole({ role: 'webhook', env, lockMs: LOCK_MS }),
      startRelayRole({ role: 'worker', env, lockMs: LOCK_MS, name: 'worker-1' }),
      startRelayRole({ role: 'worker', env, lockMs: LOCK_MS, name: 'worker-2' }),
    ]);
    rig.procs.push(sim, webhook, w1, w2);
    onTestFailed(() => console.error(describeOutputs(rig.procs)));
    const o = rig.observe(env);
    const { admission } = o;
    // A slot held by a task that vanished (its worker died after the task ended and its job was
    // removed, before the release): only the sweep can return it.
    await admission.admit(`leaked-${id}`, 'ghost', 'bulk', CAP);

    const batch = await o.producer.enqueueBatch(
      Array.from({ length: TASKS }, (_, i) => ({
        positivePrompt: `fair crash ${i}`,
        width: 1024,
        height: 1024,
      })),
    );
    await until(async () => (await sim.admin.stats()).tasksAccepted >= CAP, STEP_TIMEOUT_MS, 'slots filled');
    await w1.kill();

    const final = await waitForBatchEnd(o, batch.batchId, BATCH_TIMEOUT_MS);
    expect(final).toMatchObject({ state: 'completed', completed: TASKS, failed: 0 });
    const tasks = await readBatchTasks(o, batch.batchId, 0, TASKS);
    expect(maxOverlap(tasks), 'provider-side concurrency within the cap').toBeLessThanOrEqual(CAP);
    expect((await sim.admin.stats()).tasksAccepted).toBeGreaterThanOrEqual(TASKS);
    // Every slot came back, the leaked one included (the sweep runs every 10 s on each worker).
    await until(async () => (await admission.inFlight()) === 0, STEP_TIMEOUT_MS, 'all slots returned');
    expect(await admission.isAdmitted(`leaked-${id}`)).toBe(false);
    expect(w1.starts).toBe(1);
    expect(w1.running).toBe(false);
  }, 180_000);
});
