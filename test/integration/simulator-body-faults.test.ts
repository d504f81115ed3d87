// The simulator's body faults, each at rate 1, seen over real HTTP the way the relay sees them: every
// damaged copy is refused by the relay's own checks, while the generated image (imageBytes) stays whole,
// and a URL re-fetched after the fault is lifted comes back byte-exact.
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputFetchError } from '../../src/errors.js';
import { detectImage } from '../../src/outputs/detect-image.js';
import type { FetchPolicy } from '../../src/outputs/fetch-policy.js';
import { fetchUrl } from '../../src/outputs/fetch-url.js';
import { getOutputBytes } from '../../src/outputs/get-output-bytes.js';
import { type FaultRates, type Simulator, startSimulator } from '../../src/simulator/index.js';

type Json = Record<string, unknown>;
const W = 1248;
const H = 832;
const policy: FetchPolicy = { allowedHosts: [], allowPrivate: true, maxBytes: 20_000_000, timeoutMs: 10_000 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simWith(faults: Partial<FaultRates>): Promise<Simulator> {
  const s = await startSimulator({ faults, latency: { minMs: 0, maxMs: 5 } });
  cleanups.push(() => s.close());
  return s;
}

/** Submit one sync task and return its only item. */
async function generate(s: Simulator, extra: Json): Promise<Json> {
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify([
      {
        taskType: 'imageInference',
        taskUUID: randomUUID(),
        model: 'bfl:3@1',
        positivePrompt: 'a harbour in fog',
        width: W,
        height: H,
        ...extra,
      },
    ]),
  });
  const body = (await res.json()) as { data: Json[] };
  expect(res.status).toBe(200);
  expect(body.data).toHaveLength(1);
  return body.data[0]!;
}

async function refusal(p: Promise<unknown>): Promise<OutputFetchError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OutputFetchError);
  return e as OutputFetchError;
}

const relayReads = (item: Json) => getOutputBytes(item as never, policy, undefined, { width: W, height: H });

describe('simulator body faults', () => {
  it.each([
    ['truncateImage', 'PNG', 'URL'],
    ['truncateImage', 'JPG', 'base64Data'],
    ['truncateImage', 'WEBP', 'dataURI'],
    ['pngCutIdat', 'PNG', 'URL'],
    ['pngCutIdat', 'PNG', 'base64Data'],
    ['jpegNoEoi', 'JPG', 'URL'],
    ['jpegNoEoi', 'JPG', 'dataURI'],
    ['webpSizeMismatch', 'WEBP', 'URL'],
    ['webpSizeMismatch', 'WEBP', 'base64Data'],
    ['base64Prefix', 'PNG', 'base64Data'],
    ['base64Prefix', 'JPG', 'dataURI'],
    ['shortContentLength', 'JPG', 'URL'],
    ['wrongSize', 'WEBP', 'URL'],
    ['wrongSize', 'PNG', 'base64Data'],
  ] as const)(
    '%s on a %s %s result is refused as OUTPUT_CORRUPT',
    async (fault, outputFormat, outputType) => {
      const s = await simWith({ [fault]: 1 });
      const item = await generate(s, { outputFormat, outputType });
      const e = await refusal(relayReads(item));
      expect({ code: e.code, retryable: e.retryable }, e.message).toEqual({
        code: 'OUTPUT_CORRUPT',
        retryable: true,
      });
      const whole = s.imageBytes(item.imageUUID as string)!;
      if (fault === 'wrongSize') {
        expect(detectImage(whole)).toMatchObject({ width: W / 2, height: H / 2 });
        expect(s.stats().imagesDamaged).toBe(0);
        return;
      }
      expect(detectImage(whole, { width: W, height: H }).format).toBe(outputFormat);
      expect(s.stats().imagesDamaged).toBe(1);
      if (outputType === 'URL') {
        s.setFaults({ [fault]: 0 });
        expect(
          (await relayReads(item)).bytes.equals(whole),
          'a re-fetch without the fault is byte-exact',
        ).toBe(true);
      }
    },
  );

  it('base64Prefix keeps the first 100 base64 characters: valid base64 and a valid signature, not a whole image', async () => {
    const s = await simWith({ base64Prefix: 1 });
    const item = await generate(s, { outputFormat: 'PNG', outputType: 'base64Data' });
    expect(item.imageBase64Data).toHaveLength(100);
    const whole = s.imageBytes(item.imageUUID as string)!;
    expect(item.imageBase64Data).toBe(whole.toString('base64').slice(0, 100));
  });

  it('pngCutIdat serves a valid header and well-formed chunks ending in a short IDAT, with no IEND', async () => {
    const s = await simWith({ pngCutIdat: 1 });
    const item = await generate(s, { outputFormat: 'PNG' });
    const body = Buffer.from(await (await fetch(item.imageURL as string)).arrayBuffer());
    const whole = s.imageBytes(item.imageUUID as string)!;
    const chunks: { type: string; length: number; crcOk: boolean }[] = [];
    for (let at = 8; at < body.length; at += 12 + body.readUInt32BE(at)) {
      const length = body.readUInt32BE(at);
      const crcOk = crc32(body.subarray(at + 4, at + 8 + length)) === body.readUInt32BE(at + 8 + length);
      chunks.push({ type: body.toString('latin1', at + 4, at + 8), length, crcOk });
    }
    expect(body.subarray(0, 33).equals(whole.subarray(0, 33)), 'signature and IHDR as generated').toBe(true);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    expect(chunks.at(-1)?.type).toBe('IDAT');
    expect(chunks.map((c) => c.type)).not.toContain('IEND');
    expect(body.length).toBeLessThan(whole.length);
  });

  it('shortContentLength declares the whole length, sends half and closes: the fetch names both lengths', async () => {
    const s = await simWith({ shortContentLength: 1 });
    const item = await generate(s, { outputFormat: 'PNG' });
    const whole = s.imageBytes(item.imageUUID as string)!;
    const e = await refusal(fetchUrl(item.imageURL as string, policy));
    expect(e.code).toBe('OUTPUT_CORRUPT');
    expect(e.message).toContain(`Content-Length declared ${whole.length}`);
  });

  it('format faults leave other formats whole', async () => {
    const s = await simWith({ pngCutIdat: 1, jpegNoEoi: 1, webpSizeMismatch: 1 });
    for (const [format, spared] of [
      ['JPG', 'pngCutIdat, webpSizeMismatch'],
      ['PNG', 'jpegNoEoi, webpSizeMismatch'],
      ['WEBP', 'pngCutIdat, jpegNoEoi'],
    ] as const) {
      const only = Object.fromEntries(spared.split(', ').map((f) => [f, 1]));
      s.setFaults({ pngCutIdat: 0, jpegNoEoi: 0, webpSizeMismatch: 0, ...only });
      const item = await generate(s, { outputFormat: format, outputType: 'base64Data' });
      expect((await relayReads(item)).format).toBe(format);
    }
    expect(s.stats().imagesDamaged).toBe(0);
  });

  it('bothSources puts imageURL and imageBase64Data in one item; the relay refuses it as OUTPUT_AMBIGUOUS', async () => {
    const s = await simWith({ bothSources: 1 });
    for (const outputType of ['URL', 'base64Data'] as const) {
      const item = await generate(s, { outputFormat: 'JPG', outputType });
      expect(typeof item.imageURL).toBe('string');
      expect(typeof item.imageBase64Data).toBe('string');
      const e = await refusal(relayReads(item));
      expect({ code: e.code, retryable: e.retryable }).toEqual({
        code: 'OUTPUT_AMBIGUOUS',
        retryable: false,
      });
    }
  });

  it('the admin API sets the body faults for a simulator in another process', async () => {
    const s = await simWith({});
    const res = await fetch(`${s.baseUrl}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ truncateImage: 1, bothSources: 0, shortContentLength: 0.25 }),
    });
    const body = (await res.json()) as { faults: FaultRates };
    // bothSources 0: a two-source item would be refused as OUTPUT_AMBIGUOUS before any size check.
    expect(body.faults).toMatchObject({ truncateImage: 1, bothSources: 0, shortContentLength: 0.25 });
    const item = await generate(s, { outputFormat: 'JPG', outputType: 'base64Data' });
    expect((await refusal(relayReads(item))).code).toBe('OUTPUT_CORRUPT');
  });
});
