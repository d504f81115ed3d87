// Run a batch's failed tasks again, then wait for the batch to end again.
// `npx tsx examples/retry-batch.ts <batchId>`
import { createRelay } from 'kontext-relay';

const batchId = process.argv[2] ?? process.env.EXAMPLE_BATCH_ID;
if (!batchId) {
  console.error('usage: retry-batch.ts <batchId>');
  process.exit(2);
}

const relay = createRelay();
const before = await relay.status(batchId);
if (!before) {
  console.error(`unknown batch ${batchId}`);
  await relay.close();
  process.exit(3);
}
console.log(`batch ${batchId} ${before.state}: ${before.failed} failed`);

const { retried, unavailable } = await relay.retryFailed(batchId);
console.log(`retried ${retried} task(s); ${unavailable.length} could not be re-run`);

const after = await relay.waitForBatch(batchId, { timeoutMs: 120_000 });
console.log(`batch ${batchId} ${after.state}: ${after.completed} completed, ${after.failed} failed`);
await relay.close();
