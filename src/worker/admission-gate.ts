// The fair-share gate (issue 14), next to the budget gate: with MAX_IN_FLIGHT set, a task is submitted
// only once the scheduler (tasks/admission-store.ts) admits it; until then its job is parked in the
// delayed set (no worker slot held) and woken by whichever call admits it. Its slot is given back when
// the job settles, and a periodic sweep returns slots a crashed worker could not.
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from '../log.js';
import { DEFAULT_TENANT } from '../tasks/admission-store.js';
import type { TaskJobData, TaskJobResult } from '../tasks/job-data.js';
import { type Lane, RESULT_PRIORITY } from '../tasks/job-options.js';
import { wakeJob } from '../tasks/wake-job.js';
import type { WorkerDeps } from './worker-deps.js';

/**
 * How long a waiting task stays parked before asking again. Admission wakes it at once; this re-check
 * only catches a wake that was lost (a crash between admit and wake). Long, because with a large
 * backlog every waiting job would otherwise cost an activation per period.
 */
export const ADMISSION_RECHECK_MS = 60_000;
/** How often each worker sweeps slots held by tasks that ended or vanished. */
export const ADMISSION_SWEEP_MS = 10_000;

type TaskJob = Job<TaskJobData, TaskJobResult>;

/** The tenant a task is scheduled under: its own, else its batch, else the default tenant. */
export function tenantOf(data: Pick<TaskJobData, 'tenant' | 'batchId'>): string {
  return data.tenant ?? data.batchId ?? DEFAULT_TENANT;
}

/** The lane a job runs in: interactive jobs carry no BullMQ priority (job-options.ts). */
export function laneOf(job: Pick<TaskJob, 'opts'>): Lane {
  return (job.opts.priority ?? 0) > 0 ? 'bulk' : 'interactive';
}

function gateOn(deps: WorkerDeps): number | undefined {
  return deps.admission ? deps.config.MAX_IN_FLIGHT : undefined;
}

async function wakeAll(deps: WorkerDeps, uuids: readonly string[]): Promise<void> {
  // Job ids are taskUUIDs (job-options.ts).
  await Promise.all(uuids.map((u) => wakeJob(deps.queue, u)));
}

/** Returns when the task holds a slot; otherwise parks the job and throws DelayedError. */
export async function holdUntilAdmitted(
  deps: WorkerDeps,
  job: TaskJob,
  token: string | undefined,
  log: Logger,
): Promise<void> {
  const cap = gateOn(deps);
  if (!cap || !deps.admission) return;
  const uuid = job.data.task.taskUUID;
  const verdict = await deps.admission.admit(uuid, tenantOf(job.data), laneOf(job), cap);
  await wakeAll(deps, verdict.woken);
  if (verdict.admitted) return;
  log.debug({ tenant: tenantOf(job.data) }, 'waiting for a fair-share slot');
  // Once admitted, run ahead of bulk jobs not yet seen by the scheduler, as a parked result does.
  if ((job.opts.priority ?? 0) > RESULT_PRIORITY) {
    await job.changePriority({ priority: RESULT_PRIORITY });
    job.opts.priority = RESULT_PRIORITY;
  }
  // Jittered up to 2×, so a large backlog parked at once does not re-check all at once.
  await job.moveToDelayed(Date.now() + ADMISSION_RECHECK_MS * (1 + Math.random()), token);
  // Admitted between the verdict and the move: the wake found this job still active.
  if (await deps.admission.isAdmitted(uuid)) await job.promote().catch(() => undefined);
  throw new DelayedError();
}

/** Give the slot back and wake whichever tasks the scheduler admits in its place. */
export async function releaseSlot(deps: WorkerDeps, taskUUID: string, log: Logger): Promise<void> {
  const cap = gateOn(deps);
  if (!cap || !deps.admission) return;
  try {
    await wakeAll(deps, await deps.admission.release(taskUUID, cap));
  } catch (err) {
    // The sweep returns the slot later (ADMISSION_SWEEP_MS); the task's outcome stands.
    log.warn({ err }, 'releasing a fair-share slot failed; the sweep will return it');
  }
}

type Processor = (job: TaskJob, token?: string) => Promise<TaskJobResult>;

/**
 * The processor, releasing the task's slot when its job settles: completed (returned) or ended for
 * good (UnrecoverableError). A parked job (DelayedError) or one that will be retried keeps its slot.
 */
export function releasingSlots(deps: WorkerDeps, processor: Processor): Processor {
  if (!gateOn(deps)) return processor;
  return async (job, token) => {
    const log = deps.logger.child({ taskUUID: job.data.task.taskUUID, jobId: job.id });
    let result: TaskJobResult;
    try {
      result = await processor(job, token);
    } catch (e) {
      if (e instanceof UnrecoverableError) await releaseSlot(deps, job.data.task.taskUUID, log);
      throw e;
    }
    await releaseSlot(deps, job.data.task.taskUUID, log);
    return result;
  };
}

/** Sweep every ADMISSION_SWEEP_MS; returns the stop function. A no-op without MAX_IN_FLIGHT. */
export function startAdmissionSweeper(deps: WorkerDeps): () => void {
  const cap = gateOn(deps);
  const admission = deps.admission;
  if (!cap || !admission) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    admission
      .sweep(cap)
      .then(async ({ released, woken }) => {
        if (released > 0) deps.logger.warn({ released }, 'fair-share sweep returned slots of ended tasks');
        await wakeAll(deps, woken);
      })
      .catch((err: unknown) => deps.logger.warn({ err }, 'fair-share sweep failed'))
      .finally(() => {
        running = false;
      });
  }, ADMISSION_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
