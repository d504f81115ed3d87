// The Relay handle's own promises: configuration shorthands are validated like the environment, close()
// ends live event iterators and releases what the handle opened (and only that), and a closed handle
// refuses work with a typed error.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createRelay, type Relay, RelayClosedError } from '../../src/relay/create-relay.js';
import { testConfig, testRedisUrl, uniqueId } from '../helpers/env.js';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

const task = { positivePrompt: 'relay handle test', width: 1024, height: 1024 };

describe('createRelay', () => {
  it('validates the shorthands the way the environment is validated', () => {
    expect(() => createRelay({ config: testConfig(), queuePrefix: 'bad prefix!' })).toThrow(ConfigError);
    expect(() => createRelay({ config: testConfig(), redisUrl: 'not a url' })).toThrow(ConfigError);
    const r = createRelay({ config: testConfig(), queuePrefix: 'kr-ok', queueName: 'q1' });
    expect(r.config).toMatchObject({ QUEUE_PREFIX: 'kr-ok', QUEUE_NAME: 'q1' });
  });

  it('enqueues, reads status, and reports unknown batches and tasks as null', async () => {
    relay = createRelay({ config: testConfig(), queuePrefix: `kr-${uniqueId()}` });
    const { taskUUID, duplicate } = await relay.enqueue(task, { idempotencyKey: 'k1' });
    expect(duplicate).toBe(false);
    expect((await relay.enqueue(task, { idempotencyKey: 'k1' })).duplicate).toBe(true);
    expect(await relay.task(taskUUID)).toMatchObject({ taskUUID, state: 'queued' });
    expect(await relay.status('nope')).toBeNull();
    expect(await relay.task('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('close() ends a live events iterator and a pending wait', async () => {
    relay = createRelay({ config: testConfig(), queuePrefix: `kr-${uniqueId()}` });
    const { batchId } = await relay.enqueueBatch([task], { batchId: 'never-runs' });
    const events = (async () => {
      const seen: string[] = [];
      for await (const ev of relay!.events({ batchId, from: '$' })) seen.push(ev.type);
      return seen;
    })();
    const wait = relay.waitForBatch(batchId, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200)); // both are blocked on Redis now
    await relay.close();
    expect(await events).toEqual([]);
    expect(await wait).toBeInstanceOf(RelayClosedError);
    await expect(relay.enqueue(task)).rejects.toBeInstanceOf(RelayClosedError);
    await relay.close(); // twice is fine
  });

  it('leaves a connection it was given open', async () => {
    const own = new Redis(testRedisUrl());
    try {
      relay = createRelay({ config: testConfig(), connection: own });
      await relay.enqueue(task);
      await relay.close();
      expect(await own.ping()).toBe('PONG');
    } finally {
      own.disconnect();
    }
  });
});
