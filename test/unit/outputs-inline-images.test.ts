import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResultItem } from '../../src/contract/index.js';
import { OutputFetchError } from '../../src/errors.js';
import { decodeBase64Strict, decodeDataUri } from '../../src/outputs/decode-inline.js';
import { detectImage, formatFromMagic } from '../../src/outputs/detect-image.js';
import type { FetchPolicy } from '../../src/outputs/fetch-policy.js';
import { getOutputBytes } from '../../src/outputs/get-output-bytes.js';

const policy: FetchPolicy = { allowedHosts: [], allowPrivate: false, maxBytes: 1_000_000, timeoutMs: 1000 };
const base = { taskUUID: '9f1c3a52-2b7e-4c0e-8f3a-1d2e3f4a5b6c', imageUUID: 'b1e2' };
const images: Record<'jpeg' | 'png' | 'webp', Buffer> = {} as never;

beforeAll(async () => {
  const canvas = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#3366cc' } });
  images.jpeg = await canvas().jpeg().toBuffer();
  images.png = await canvas().png().toBuffer();
  images.webp = await canvas().webp().toBuffer();
});

async function failure(p: Promise<unknown>): Promise<OutputFetchError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OutputFetchError);
  return e as OutputFetchError;
}

function thrown(fn: () => unknown): OutputFetchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OutputFetchError);
    return e as OutputFetchError;
  }
  throw new Error('expected a throw');
}

describe('inline results', () => {
  it('imageBase64Data decodes to the exact bytes, with format and dimensions', async () => {
    const out = await getOutputBytes({ ...base, imageBase64Data: images.png.toString('base64') }, policy);
    expect(out.bytes.equals(images.png)).toBe(true);
    expect(out).toMatchObject({ format: 'PNG', contentType: 'image/png', width: 40, height: 30 });
  });

  it('imageDataURI decodes JPEG and WEBP data URIs', async () => {
    const jpg = await getOutputBytes(
      { ...base, imageDataURI: `data:image/jpeg;base64,${images.jpeg.toString('base64')}` },
      policy,
    );
    expect(jpg).toMatchObject({ format: 'JPG', contentType: 'image/jpeg', width: 40, height: 30 });
    const webp = await getOutputBytes(
      { ...base, imageDataURI: `data:image/webp;base64,${images.webp.toString('base64')}` },
      policy,
    );
    expect(webp).toMatchObject({ format: 'WEBP', contentType: 'image/webp' });
    expect(webp.bytes.equals(images.webp)).toBe(true);
  });

  it('trusts the bytes, not the declared type, when a data URI mislabels its image', async () => {
    const out = await getOutputBytes(
      { ...base, imageDataURI: `data:image/jpeg;base64,${images.png.toString('base64')}` },
      policy,
    );
    expect(out.format).toBe('PNG');
  });

  it('a result with no image field is OUTPUT_MISSING, with more than one OUTPUT_AMBIGUOUS; both final', async () => {
    const none = await failure(getOutputBytes(base as ResultItem, policy));
    expect(none).toMatchObject({ code: 'OUTPUT_MISSING', retryable: false });
    const b64 = images.png.toString('base64');
    const two = await failure(
      getOutputBytes({ ...base, imageBase64Data: b64, imageURL: 'https://im.runware.ai/x.png' }, policy),
    );
    expect(two).toMatchObject({ code: 'OUTPUT_AMBIGUOUS', retryable: false });
    expect(two.message).toContain('imageURL, imageBase64Data');
    expect((await failure(getOutputBytes({ ...base, imageURL: '' }, policy))).code).toBe('OUTPUT_MISSING');
  });

  it('an empty field does not count as the image source', async () => {
    const out = await getOutputBytes(
      { ...base, imageURL: '', imageBase64Data: images.jpeg.toString('base64') },
      policy,
    );
    expect(out.format).toBe('JPG');
  });

  it('base64 with characters outside the alphabet is refused, not skipped', () => {
    const b64 = images.png.toString('base64');
    for (const bad of [
      `${b64.slice(0, 20)}!${b64.slice(21)}`,
      `${b64.slice(0, 40)}\n${b64.slice(40)}`,
      `${b64}$`,
    ]) {
      expect(thrown(() => decodeBase64Strict(bad, policy.maxBytes)).code).toBe('OUTPUT_NOT_IMAGE');
    }
    expect(thrown(() => decodeBase64Strict('-_-_', policy.maxBytes)).code).toBe('OUTPUT_NOT_IMAGE');
  });

  it('base64 with impossible length or misplaced padding is refused', () => {
    for (const bad of ['AAAAA', 'AA=A', 'A===', 'AAA=AAAA', '']) {
      expect(thrown(() => decodeBase64Strict(bad, policy.maxBytes)).code, bad).toBe('OUTPUT_NOT_IMAGE');
    }
  });

  it('accepts unpadded base64 of a valid length', () => {
    expect(decodeBase64Strict('QUJD', 10).toString()).toBe('ABC');
    expect(decodeBase64Strict('QUI', 10).toString()).toBe('AB');
    expect(decodeBase64Strict('QUI=', 10).toString()).toBe('AB');
  });

  it('inline data over the size limit is OUTPUT_TOO_LARGE, judged before decoding', async () => {
    const small = { ...policy, maxBytes: images.png.length - 1 };
    const err = await failure(
      getOutputBytes({ ...base, imageBase64Data: images.png.toString('base64') }, small),
    );
    expect(err).toMatchObject({ code: 'OUTPUT_TOO_LARGE', retryable: false });
    expect(decodeBase64Strict(images.png.toString('base64'), images.png.length).length).toBe(
      images.png.length,
    );
  });

  it('a data URI that is not an image type or not base64 is OUTPUT_NOT_IMAGE', () => {
    const b64 = images.png.toString('base64');
    for (const bad of [
      `data:text/plain;base64,${b64}`,
      `data:;base64,${b64}`,
      'data:image/png,%89PNG',
      `image/png;base64,${b64}`,
      `data:image/png;base64;charset=utf-8,${b64}`,
    ]) {
      expect(thrown(() => decodeDataUri(bad, policy.maxBytes)).code, bad.slice(0, 40)).toBe(
        'OUTPUT_NOT_IMAGE',
      );
    }
  });

  it('bytes that are not an image are OUTPUT_NOT_IMAGE and final', async () => {
    const text = Buffer.from('<html>not an image</html>').toString('base64');
    const err = await failure(getOutputBytes({ ...base, imageBase64Data: text }, policy));
    expect(err).toMatchObject({ code: 'OUTPUT_NOT_IMAGE', retryable: false });
  });
});

describe('image detection', () => {
  it('recognises JPEG, PNG and WEBP by their signatures', () => {
    expect(formatFromMagic(images.jpeg)).toBe('JPG');
    expect(formatFromMagic(images.png)).toBe('PNG');
    expect(formatFromMagic(images.webp)).toBe('WEBP');
    expect(formatFromMagic(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeUndefined();
    expect(formatFromMagic(Buffer.from([0xff, 0xd8]))).toBeUndefined();
  });

  it('refuses a valid signature followed by garbage', () => {
    const fake = Buffer.concat([images.png.subarray(0, 8), Buffer.alloc(200, 7)]);
    expect(thrown(() => detectImage(fake)).code).toBe('OUTPUT_NOT_IMAGE');
  });

  it('refuses other image formats such as GIF', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .gif()
      .toBuffer();
    expect(thrown(() => detectImage(gif)).code).toBe('OUTPUT_NOT_IMAGE');
  });
});
