// Adaptive polling and webhook health on real parts (Redis, S3 server, the simulator over HTTP).
// No wall-clock assertion: "in time" is RESULT_DEADLINE_MS, far under the old fixed 60 s first poll;
// a task the policy failed to recover before it would fail with RESULT_DEADLINE instead of completing.
import { afterEach, describe, expect, it } from 'vitest';
import { parseStreamEntry, type RelayEvent } from '../../src/events/event-types.js';
import { readTaskStatus } from '../../src/status/read-status.js';
import { type Pipeline, startPipeline, waitForBatch } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

/** The old fixed first poll, kept as the cap: adaptive polling must beat it by far. */
const OLD_FIRST_POLL_MS = '60000';
/** Every test's deadline: a task not recovered by then fails, and the test with it. */
const DEADLINE_MS = 10_000;

const task = (i: number) => ({ positivePrompt: `tail polling prompt ${i}`, width: 1024, height: 1024 });

const fastPolicy = {
  FIRST_POLL_AFTER_MS: OLD_FIRST_POLL_MS,
  MAX_POLL_INTERVAL_MS: OLD_FIRST_POLL_MS,
  RESULT_DEADLINE_MS: String(DEADLINE_MS),
  POLL_MIN_DELAY_MS: '300',
  POLL_RETRY_MS: '300',
  LATENCY_PRIOR_MS: '100',
};

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function waitEnded(pl: Pipeline, taskUUID: string) {
  let state = '';
  await until(
    async () => {
      state = (await readTaskStatus(pl.svc, taskUUID))?.state ?? '';
      return ['completed', 'failed', 'cancelled'].includes(state);
    },
    DEADLINE_MS * 2,
    `task ${taskUUID} ended`,
  );
  return readTaskStatus(pl.svc, taskUUID);
}

async function relayEvents(pl: Pipeline): Promise<RelayEvent[]> {
  const entries = await pl.redis.xrange(pl.svc.tasks.keys.events(), '-', '+');
  return entries
    .map(([id, fields]) => parseStreamEntry(id, fields))
    .filter((e): e is RelayEvent => e?.type.startsWith('relay.') === true);
}

async function metric(pl: Pipeline, name: string): Promise<number> {
  const text = await (await fetch(`${pl.svc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('adaptive polling', () => {
  it('a task whose webhook is dropped is recovered by polling long before the old 60 s first poll', async () => {
    p = await startPipeline({ sim: { faults: { dropWebhook: 1 } }, env: fastPolicy });
    const { taskUUID } = await p.producer.enqueue(task(1));
    const s = await waitEnded(p, taskUUID);
    expect(s?.state, s?.reason ?? '').toBe('completed');
    expect(p.sim.stats().webhooksDropped).toBe(1);
    expect(await p.workerSvc!.metrics.recoveredByPolling.get()).toMatchObject({ values: [{ value: 1 }] });
    const rec = await p.svc.tasks.get(taskUUID);
    // The first poll was planned from the learned/prior latency, not at FIRST_POLL_AFTER_MS.
    expect(rec!.dueAt - rec!.submittedAt!).toBeLessThan(Number(OLD_FIRST_POLL_MS) / 10);
  });

  it('a batch submitted before anything is learned re-plans its first polls from what its webhooks teach', async () => {
    // The prior alone would put every first poll at the 60 s cap, past the deadline.
    p = await startPipeline({
      sim: { faults: { dropWebhook: 0.2 }, seed: 5 },
      env: { ...fastPolicy, LATENCY_PRIOR_MS: OLD_FIRST_POLL_MS },
    });
    const batch = await p.producer.enqueueBatch(Array.from({ length: 30 }, (_, i) => task(100 + i)));
    const s = await waitForBatch(p, batch.batchId, DEADLINE_MS * 2);
    expect(p.sim.stats().webhooksDropped).toBeGreaterThan(0);
    expect(s).toMatchObject({ completed: 30, failed: 0 });
  });

  it('a getResponse answered 503 is retried within seconds, not at the next backed-off interval', async () => {
    p = await startPipeline({ sim: { faults: { dropWebhook: 1 } }, env: fastPolicy });
    const { taskUUID } = await p.producer.enqueue(task(2));
    const pl = p;
    await until(
      async () => (await pl.svc.tasks.get(taskUUID))?.state === 'submitted',
      DEADLINE_MS,
      'submitted',
    );
    // From now on every request (only polls remain) is answered 503, until one has been.
    pl.sim.setFaults({ submit503: 1 });
    await until(() => pl.sim.stats().submitFaults >= 1, DEADLINE_MS, 'a poll answered 503');
    pl.sim.setFaults({ submit503: 0 });
    const s = await waitEnded(pl, taskUUID);
    expect(s?.state, s?.reason ?? '').toBe('completed');
    expect((await pl.svc.tasks.get(taskUUID))!.polls).toBeGreaterThanOrEqual(2);
  });
});

describe('poll budget and overdue status', () => {
  it('polls beyond the queue-wide budget wait, and status shows the task overdue, waiting for its webhook', async () => {
    // One token, refilled once in ~17 minutes: the first due task polls, the second must wait.
    p = await startPipeline({
      sim: { faults: { dropWebhook: 1 } },
      env: { ...fastPolicy, POLL_RATE_MAX: '0.001', RESULT_DEADLINE_MS: '600000' },
    });
    const a = await p.producer.enqueue(task(11));
    const first = await waitEnded(p, a.taskUUID);
    expect(first?.state).toBe('completed');
    const b = await p.producer.enqueue(task(12));
    const pl = p;
    await until(
      async () => (await readTaskStatus(pl.svc, b.taskUUID))?.overdue === true,
      DEADLINE_MS,
      'second task overdue',
    );
    const s = await readTaskStatus(pl.svc, b.taskUUID);
    expect(s).toMatchObject({ state: 'submitted', overdue: true, waitingFor: 'waiting for webhook' });
    expect(s!.overdueForMs).toBeGreaterThan(0);
    expect(pl.sim.stats().polls).toBe(1);
    expect((await pl.svc.tasks.get(b.taskUUID))!.polls).toBe(0);
  });
});

describe('webhook health', () => {
  it('switches to poll-first when webhooks are lost, and back when they arrive again, one event each way', async () => {
    p = await startPipeline({
      sim: { faults: { dropWebhook: 1 } },
      env: { ...fastPolicy, WEBHOOK_HEALTH_MIN_SLOTS: '4', WEBHOOK_RECOVER_AFTER: '2' },
    });
    const lost = await p.producer.enqueueBatch([1, 2, 3, 4, 5, 6].map(task));
    expect((await waitForBatch(p, lost.batchId, DEADLINE_MS * 2)).completed).toBe(6);
    expect((await relayEvents(p)).map((e) => e.type)).toEqual(['relay.webhooks_degraded']);
    expect(await metric(p, 'kr_poll_first')).toBe(1);
    expect(await metric(p, 'kr_webhook_loss_ratio')).toBe(1);

    p.sim.setFaults({ dropWebhook: 0 });
    const back = await p.producer.enqueueBatch([7, 8, 9, 10].map(task));
    expect((await waitForBatch(p, back.batchId, DEADLINE_MS * 2)).completed).toBe(4);
    const events = await relayEvents(p);
    expect(events.map((e) => e.type)).toEqual(['relay.webhooks_degraded', 'relay.webhooks_recovered']);
    expect(events[0]).toMatchObject({ data: { lossRatio: 1 } });
    expect(await metric(p, 'kr_poll_first')).toBe(0);
  });
});
