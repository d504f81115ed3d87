// What operator actions need: the queue and the task and batch records.
import type { RecordsState } from '../tasks/relay-state.js';

export type ControlContext = RecordsState;

/** Batch tasks are walked in pages of this size, so a 100k batch never loads at once. */
export const CONTROL_PAGE = 500;

/** Every taskUUID of a batch, in batch order, read a page at a time. */
export async function* batchTaskUUIDs(ctx: ControlContext, batchId: string): AsyncGenerator<string> {
  const size = await ctx.batches.size(batchId);
  for (let offset = 0; offset < size; offset += CONTROL_PAGE) {
    yield* await ctx.batches.taskUUIDs(batchId, offset, CONTROL_PAGE);
  }
}
