// The end of a task's trace: kr.provider_wait, recorded after the fact from the arrival log (submit
// acknowledged → last result arrived, an event per webhook or poll arrival), then kr.complete around
// the write that ends the task, with its state. Outside a traced task this is just `finish()`.
import type { TaskStore } from '../tasks/task-store.js';
import type { TaskState } from '../tasks/types.js';
import { ATTR, activeTaskAttributes, recordTaskPastSpan, taskSpan } from '../tracing/spans.js';

export async function traceCompletion<T>(
  tasks: Pick<TaskStore, 'arrivals'>,
  rec: { taskUUID: string; submittedAt?: number | undefined },
  state: TaskState,
  finish: () => Promise<T>,
): Promise<T> {
  if (!activeTaskAttributes()) return finish();
  if (rec.submittedAt !== undefined) await recordProviderWait(tasks, rec.taskUUID, rec.submittedAt);
  return taskSpan('kr.complete', { [ATTR.state]: state }, async (span) => {
    const r = await finish();
    if (r === 'already') span.setAttribute(ATTR.outcome, 'already ended');
    return r;
  });
}

async function recordProviderWait(
  tasks: Pick<TaskStore, 'arrivals'>,
  taskUUID: string,
  submittedAt: number,
): Promise<void> {
  const arrivals = await tasks.arrivals(taskUUID);
  if (arrivals.length === 0) return;
  // A webhook may beat the submit's acknowledgement: the wait is then empty, not negative.
  const last = Math.max(submittedAt, ...arrivals.map((a) => a.at));
  const events = [...arrivals]
    .sort((a, b) => a.at - b.at)
    .map((a) => ({
      name: `kr.result.${a.via}`,
      at: a.at,
      attributes: { [ATTR.slot]: a.slot, [ATTR.via]: a.via },
    }));
  recordTaskPastSpan('kr.provider_wait', { [ATTR.items]: arrivals.length }, submittedAt, last, events);
}
