// The invariant "no task billed twice by a re-run": enqueueing a batch's entries again into the same
// batch added nothing, and the provider generated no more successful images than the batch asked for
// (a re-run that slipped through would be billed under new taskUUIDs and push the count over).
import type { BatchSummary } from '../../src/producer/index.js';
import type { GeneratedResult } from '../../src/simulator/index.js';
import { readBatchTasks } from '../../src/status/read-status.js';
import type { InvariantRow } from './invariants-table.js';
import type { RelayObserver } from './relay-observer.js';

export async function checkRerunInvariant(
  obs: RelayObserver,
  batchId: string,
  rerun: BatchSummary,
  providerResults: readonly GeneratedResult[],
): Promise<InvariantRow> {
  const tasks = await readBatchTasks(obs, batchId, 0, 1_000_000);
  const asked = tasks.reduce((s, t) => s + t.expected, 0);
  const generated = providerResults.filter((r) => !r.error).length;
  const bad = [
    ...(rerun.enqueued === 0 ? [] : [`the re-run enqueued ${rerun.enqueued} task(s)`]),
    ...(rerun.alreadyInBatch === tasks.length
      ? []
      : [`the re-run found ${rerun.alreadyInBatch} of ${tasks.length} tasks in the batch`]),
    ...(rerun.skipped.length === 0 ? [] : [`the re-run skipped ${rerun.skipped.length} entries`]),
    ...(rerun.total === tasks.length
      ? []
      : [`batch total ${rerun.total} after the re-run, ${tasks.length} tasks`]),
    ...(generated <= asked ? [] : [`provider generated ${generated} images for ${asked} asked`]),
  ];
  return {
    invariant: 'no task billed twice by a re-run (same batch, same entries)',
    holds: bad.length === 0,
    detail:
      bad.length === 0
        ? `re-run added 0 of ${tasks.length}; ${generated} images for ${asked} asked`
        : bad.join('; '),
  };
}
