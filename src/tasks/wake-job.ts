// Wakes a parked (delayed) task job so a worker picks it up now. A job that is not delayed (active,
// waiting, finished) needs no wake-up: the worker re-checks for new work after parking.
import { Job } from 'bullmq';
import { JOB_NAME, type TaskJobData } from './job-data.js';
import type { TaskQueue } from './queue.js';

export async function wakeJob(queue: TaskQueue, jobId: string): Promise<boolean> {
  // A bare Job handle: promote needs only the id and the queue's keys, not the job's data.
  const job = new Job<TaskJobData>(queue, JOB_NAME, {} as TaskJobData, {}, jobId);
  try {
    await job.promote();
    return true;
  } catch {
    return false;
  }
}
