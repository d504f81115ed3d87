// Enqueue a batch and wait for it to end. Run with a service running (`npm start`, or `serve`) and the
// same REDIS_URL / QUEUE_PREFIX in the environment: `npx tsx examples/enqueue-and-wait.ts`.
import { createRelay } from 'kontext-relay';

const relay = createRelay(); // configuration from the environment (REDIS_URL, QUEUE_PREFIX, …)

const tasks = [
  { positivePrompt: 'a red fox in fresh snow, morning light', width: 1024, height: 1024 },
  { positivePrompt: 'the same fox, watercolour', width: 1184, height: 880, numberResults: 2 },
];
const batchId = process.env.EXAMPLE_BATCH_ID ?? `example-${Date.now()}`;

const { total, enqueued } = await relay.enqueueBatch(tasks, { batchId });
console.log(`batch ${batchId}: ${enqueued} of ${total} tasks enqueued`);

const summary = await relay.waitForBatch(batchId, { timeoutMs: 120_000 });
console.log(`batch ${batchId} ${summary.state}: ${summary.completed} completed, ${summary.failed} failed`);

for (const t of await relay.tasks(batchId)) {
  for (const o of t.outputs) console.log(`${t.taskUUID} slot ${o.slot}: s3://${o.bucket}/${o.key}`);
}

await relay.close(); // closes the connection it opened: the process exits by itself
