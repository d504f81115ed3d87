// What is verified before a byte is stored, end to end on real parts (Redis, s3rver, the simulator over
// HTTP): a damaged body is never stored and is fetched again; once the simulator serves the whole file,
// the slot is stored byte-exact. A result naming two sources fails the task with OUTPUT_AMBIGUOUS.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultName } from '../../src/simulator/index.js';
import { type Pipeline, startPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/relay-observer.js';

const W = 1248;
const H = 832;
const SETTLE_MS = 30_000;
/** Fetches of one damaged URL before the fault is lifted: the first, and at least one re-fetch. */
const DAMAGED_FETCHES = 2;
/** Long enough for several refusals, short enough to watch the task reach its deadline. */
const NEVER_HEALS_DEADLINE_MS = 15_000;

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { RESULT_DEADLINE_MS: '120000' } });
});
afterAll(async () => {
  await p?.close();
});

async function corruptErrors(of: Pipeline = p): Promise<number> {
  const m = await of.workerSvc!.metrics.storageErrors.get();
  return m.values.filter((v) => v.labels.code === 'OUTPUT_CORRUPT').reduce((a, v) => a + v.value, 0);
}

async function objectsOf(taskUUID: string) {
  return p.svc.store.list(`${p.config.S3_KEY_PREFIX}${taskUUID}/`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('output integrity', () => {
  it.each([
    ['truncateImage', 'PNG'],
    ['pngCutIdat', 'PNG'],
    ['jpegNoEoi', 'JPG'],
    ['webpSizeMismatch', 'WEBP'],
    ['shortContentLength', 'JPG'],
  ] as const)(
    'a %s %s body is never stored; the re-fetch of the whole file is stored byte-exact',
    async (fault: FaultName, outputFormat) => {
      const before = p.sim.stats().imagesDamaged;
      const errorsBefore = await corruptErrors();
      p.sim.setFaults({ [fault]: 1 });
      const { taskUUID } = await p.producer.enqueue({
        positivePrompt: `integrity ${fault}`,
        width: W,
        height: H,
        outputFormat,
      });
      await until(
        () => p.sim.stats().imagesDamaged - before >= DAMAGED_FETCHES,
        SETTLE_MS,
        `${DAMAGED_FETCHES} damaged fetches`,
      );
      await until(
        async () => (await corruptErrors()) - errorsBefore >= DAMAGED_FETCHES,
        SETTLE_MS,
        'corrupt counted',
      );
      // While only damaged copies arrived: nothing recorded, nothing in the bucket, the task still open.
      expect((await p.svc.tasks.get(taskUUID))?.state).toBe('submitted');
      expect(await p.svc.tasks.storedOutputs(taskUUID)).toEqual([]);
      expect(await objectsOf(taskUUID)).toEqual([]);

      p.sim.setFaults({ [fault]: 0 });
      await until(
        async () => (await p.svc.tasks.get(taskUUID))?.state === 'completed',
        SETTLE_MS,
        'completed',
      );
      const [out] = await p.svc.tasks.storedOutputs(taskUUID);
      const generated = p.sim.results().find((r) => r.taskUUID === taskUUID)!;
      const stored = await p.svc.store.get(out!.key);
      expect(
        stored.equals(p.sim.imageBytes(generated.imageUUID)!),
        'stored bytes equal the generated image',
      ).toBe(true);
      expect(sha(stored)).toBe(generated.sha256);
      expect(out!.sha256).toBe(generated.sha256);
      expect(await objectsOf(taskUUID)).toHaveLength(1);
    },
  );

  it.each([
    ['base64Prefix', 'base64Data'],
    ['truncateImage', 'base64Data'],
    ['wrongSize', 'URL'],
  ] as const)(
    '%s (%s) never heals on re-fetch, is never stored, and ends at the task deadline',
    async (fault: FaultName, outputType) => {
      // Its own pipeline: the task retries until its deadline, and the refusal count must be this task's alone.
      const own = await startPipeline({
        sim: { faults: { [fault]: 1 } },
        env: { RESULT_DEADLINE_MS: String(NEVER_HEALS_DEADLINE_MS) },
      });
      try {
        const { taskUUID } = await own.producer.enqueue({
          positivePrompt: `integrity ${fault} ${outputType}`,
          width: W,
          height: H,
          outputFormat: 'PNG',
          outputType,
        });
        // Lifting the fault cannot help: the item (or the generated image) itself is damaged.
        await until(async () => (await corruptErrors(own)) >= 1, SETTLE_MS, 'first refusal');
        own.sim.setFaults({ [fault]: 0 });
        await until(async () => (await corruptErrors(own)) >= 3, SETTLE_MS, 'refused on every retry');
        expect((await own.svc.tasks.get(taskUUID))?.state).toBe('submitted');
        expect(await own.svc.tasks.storedOutputs(taskUUID)).toEqual([]);
        expect(await own.svc.store.list(`${own.config.S3_KEY_PREFIX}${taskUUID}/`)).toEqual([]);
        // Until the deadline: then the task fails, still with nothing stored (README "Known limits").
        await until(
          async () => (await own.svc.tasks.get(taskUUID))?.state === 'failed',
          SETTLE_MS,
          'deadline',
        );
        expect((await own.svc.tasks.get(taskUUID))?.reason).toMatch(
          /^RESULT_DEADLINE: .*\(0 of 1 outputs stored\)/,
        );
        expect(await own.svc.store.list(`${own.config.S3_KEY_PREFIX}${taskUUID}/`)).toEqual([]);
      } finally {
        await own.close();
      }
    },
  );

  it('upload mode: a damaged upload is deleted, never recorded; the result is fetched and stored byte-exact', async () => {
    const own = await startPipeline({
      sim: { faults: { truncateImage: 1 } },
      env: { DELIVERY_MODE: 'upload', UPLOAD_CONFIRM_TIMEOUT_MS: '2000', RESULT_DEADLINE_MS: '120000' },
    });
    try {
      const { taskUUID } = await own.producer.enqueue({
        positivePrompt: 'integrity upload',
        width: W,
        height: H,
        outputFormat: 'PNG',
      });
      await until(() => own.sim.stats().uploads >= 1, SETTLE_MS, 'the damaged upload landed');
      await until(async () => (await corruptErrors(own)) >= 2, SETTLE_MS, 'refused, and its re-fetch too');
      expect(await own.svc.tasks.storedOutputs(taskUUID)).toEqual([]);
      expect(await own.svc.store.list(`${own.config.S3_KEY_PREFIX}${taskUUID}/`)).toEqual([]);
      own.sim.setFaults({ truncateImage: 0 });
      await until(
        async () => (await own.svc.tasks.get(taskUUID))?.state === 'completed',
        SETTLE_MS,
        'completed',
      );
      const [out] = await own.svc.tasks.storedOutputs(taskUUID);
      const generated = own.sim.results().find((r) => r.imageUUID === out!.imageUUID)!;
      expect(sha(await own.svc.store.get(out!.key))).toBe(generated.sha256);
      expect(out!.sha256).toBe(generated.sha256);
    } finally {
      await own.close();
    }
  });

  it('a result carrying imageURL and imageBase64Data fails the task with OUTPUT_AMBIGUOUS; nothing stored', async () => {
    p.sim.setFaults({ bothSources: 1 });
    const { taskUUID } = await p.producer.enqueue({ positivePrompt: 'integrity both', width: W, height: H });
    await until(
      async () => ['completed', 'failed'].includes((await p.svc.tasks.get(taskUUID))?.state ?? ''),
      SETTLE_MS,
      'ended',
    );
    p.sim.setFaults({ bothSources: 0 });
    const rec = await p.svc.tasks.get(taskUUID);
    expect(rec?.state).toBe('failed');
    expect(rec?.reason).toMatch(/^OUTPUT_AMBIGUOUS: .*imageURL, imageBase64Data/);
    expect(await objectsOf(taskUUID)).toEqual([]);
  });

  it('upload mode: the same item fails with OUTPUT_AMBIGUOUS even though its upload arrived; nothing recorded', async () => {
    const own = await startPipeline({
      sim: { faults: { bothSources: 1 } },
      env: { DELIVERY_MODE: 'upload' },
    });
    try {
      const { taskUUID } = await own.producer.enqueue({
        positivePrompt: 'integrity both upload',
        width: W,
        height: H,
      });
      await until(
        async () => ['completed', 'failed'].includes((await own.svc.tasks.get(taskUUID))?.state ?? ''),
        SETTLE_MS,
        'ended',
      );
      const rec = await own.svc.tasks.get(taskUUID);
      expect(rec?.state).toBe('failed');
      expect(rec?.reason).toMatch(/^OUTPUT_AMBIGUOUS: .*imageURL, imageBase64Data/);
      expect(await own.svc.tasks.storedOutputs(taskUUID)).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
