// Follow a batch's completion events as they happen, resumably. Each event has an `id`: store the last
// one you handled and pass it back as `from` after a restart to get exactly the events that came later.
import { createRelay } from 'kontext-relay';

const relay = createRelay();
const batchId = process.env.EXAMPLE_BATCH_ID ?? `events-${Date.now()}`;
const from = process.env.EXAMPLE_FROM ?? '0'; // '0' = from the start of the stream, '$' = only new ones

await relay.enqueueBatch(
  [
    { positivePrompt: 'a lighthouse at dusk', width: 1024, height: 1024 },
    { positivePrompt: 'a lighthouse at dawn', width: 1024, height: 1024 },
  ],
  { batchId },
);

for await (const ev of relay.events({ batchId, from })) {
  if (ev.type === 'batch.completed') {
    console.log(`${ev.id} batch.completed: ${ev.data.completed} completed, ${ev.data.failed} failed`);
    break; // leaving the loop ends the subscription
  }
  console.log(`${ev.id} ${ev.type} ${'taskUUID' in ev ? ev.taskUUID : ''}`);
}

await relay.close();
