// The completeness checks behind every stored output: each format's walk proves the file whole from its
// headers, reads the same size sharp does, and refuses every cut, a bad CRC and trailing bytes with
// OUTPUT_CORRUPT (retryable), never a stored object. Valid files come from sharp.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { OutputCorruptError, OutputFetchError } from '../../src/errors.js';
import { detectImage } from '../../src/outputs/detect-image.js';

const W = 97;
const H = 61;

/** A noisy gradient, so the encoded data is large and (for JPEG) holds stuffed 0xFF bytes. */
function pixels(width: number, height: number, channels: number): Buffer {
  const out = Buffer.alloc(width * height * channels);
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fff_ffff;
    out[i] = ((i % (width * channels)) * 3 + (seed >>> 24)) & 0xff;
  }
  return out;
}

const raw = (width = W, height = H, channels: 3 | 4 = 3) =>
  sharp(pixels(width, height, channels), { raw: { width, height, channels } });

type Sample = { name: string; format: 'JPG' | 'PNG' | 'WEBP'; bytes: Buffer; width: number; height: number };
const samples: Sample[] = [];

beforeAll(async () => {
  const add = async (name: string, format: Sample['format'], bytes: Promise<Buffer>, width = W, height = H) =>
    samples.push({ name, format, bytes: await bytes, width, height });
  await add('baseline JPEG', 'JPG', raw().jpeg({ quality: 90 }).toBuffer());
  await add('progressive JPEG', 'JPG', raw().jpeg({ progressive: true }).toBuffer());
  await add('JPEG with EXIF', 'JPG', raw().jpeg().withMetadata().toBuffer());
  await add('PNG', 'PNG', raw().png().toBuffer());
  // A large noisy PNG makes libspng split the image data over several IDAT chunks.
  await add(
    'PNG, several IDAT chunks',
    'PNG',
    raw(1024, 512).png({ compressionLevel: 0 }).toBuffer(),
    1024,
    512,
  );
  await add('PNG with alpha', 'PNG', raw(W, H, 4).png().toBuffer());
  await add('lossy WEBP (VP8)', 'WEBP', raw().webp({ quality: 80 }).toBuffer());
  await add('lossless WEBP (VP8L)', 'WEBP', raw().webp({ lossless: true }).toBuffer());
  await add('WEBP with alpha (VP8X)', 'WEBP', raw(W, H, 4).webp().toBuffer());
  await add('model size 1248×832 JPEG', 'JPG', raw(1248, 832).jpeg().toBuffer(), 1248, 832);
});

function refusal(bytes: Buffer, expected?: { width: number; height: number }): OutputFetchError {
  try {
    detectImage(bytes, expected);
  } catch (e) {
    expect(e).toBeInstanceOf(OutputFetchError);
    return e as OutputFetchError;
  }
  throw new Error('expected the check to refuse the bytes');
}

function expectCorrupt(bytes: Buffer, what: string, expected?: { width: number; height: number }) {
  const e = refusal(bytes, expected);
  expect(e, what).toBeInstanceOf(OutputCorruptError);
  expect({ code: e.code, retryable: e.retryable }, `${what}: ${e.message}`).toEqual({
    code: 'OUTPUT_CORRUPT',
    retryable: true,
  });
  return e;
}

describe('image completeness checks', () => {
  it('a whole file of each format passes, with the size sharp reads', async () => {
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      const meta = await sharp(s.bytes).metadata();
      const got = detectImage(s.bytes, { width: s.width, height: s.height });
      expect({ name: s.name, format: got.format, width: got.width, height: got.height }).toEqual({
        name: s.name,
        format: s.format,
        width: meta.width,
        height: meta.height,
      });
    }
    const multiIdat = samples.find((s) => s.name.includes('several IDAT'))!;
    expect(pngChunkTypes(multiIdat.bytes).filter((t) => t === 'IDAT').length).toBeGreaterThan(1);
  });

  it('a file cut anywhere is OUTPUT_CORRUPT: a third, a half, one or two bytes short, inside the headers', () => {
    for (const s of samples) {
      const n = s.bytes.length;
      for (const at of [40, Math.floor(n / 3), Math.floor(n / 2), n - 100, n - 2, n - 1]) {
        expectCorrupt(s.bytes.subarray(0, at), `${s.name} cut to ${at} of ${n} bytes`);
      }
    }
  });

  it('a PNG whose IDAT stops early and has no IEND is OUTPUT_CORRUPT, even with well-formed chunks', () => {
    const png = samples.find((s) => s.name === 'PNG')!.bytes;
    const idat = pngChunkOffset(png, 'IDAT');
    const length = png.readUInt32BE(idat);
    const kept = Math.floor(length / 2);
    const chunk = Buffer.alloc(12 + kept);
    chunk.writeUInt32BE(kept, 0);
    png.copy(chunk, 4, idat + 4, idat + 8 + kept);
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + kept)), 8 + kept);
    const e = expectCorrupt(Buffer.concat([png.subarray(0, idat), chunk]), 'IDAT cut, no IEND');
    expect(e.message).toContain('IEND');
  });

  it('a PNG with a flipped byte in a chunk or in its CRC fails the CRC check', () => {
    const png = samples.find((s) => s.name === 'PNG')!.bytes;
    const idat = pngChunkOffset(png, 'IDAT');
    const inData = Buffer.from(png);
    inData[idat + 8 + 5]! ^= 0x01;
    expect(expectCorrupt(inData, 'flipped IDAT byte').message).toMatch(/IDAT .* CRC/);
    const inCrc = Buffer.from(png);
    inCrc[idat + 8 + png.readUInt32BE(idat) + 1]! ^= 0x80;
    expectCorrupt(inCrc, 'flipped CRC byte');
  });

  it('a JPEG without its EOI marker is OUTPUT_CORRUPT', () => {
    for (const s of samples.filter((x) => x.format === 'JPG')) {
      expect(s.bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
      expect(expectCorrupt(s.bytes.subarray(0, -2), s.name).message).toContain('EOI');
    }
  });

  it('a WEBP whose RIFF size disagrees with its length is OUTPUT_CORRUPT, either way', () => {
    for (const s of samples.filter((x) => x.format === 'WEBP')) {
      for (const delta of [16, -2, 1]) {
        const b = Buffer.from(s.bytes);
        b.writeUInt32LE(b.readUInt32LE(4) + delta, 4);
        expect(expectCorrupt(b, `${s.name} RIFF size ${delta}`).message).toContain('RIFF');
      }
    }
  });

  it('trailing bytes after IEND, EOI or the RIFF size are refused as OUTPUT_CORRUPT (policy: no trailer)', () => {
    for (const s of samples) {
      for (const tail of [Buffer.from([0]), Buffer.alloc(64, 0xab), s.bytes]) {
        expectCorrupt(Buffer.concat([s.bytes, tail]), `${s.name} + ${tail.length} trailing bytes`);
      }
    }
  });

  it('a size other than the task asked for is OUTPUT_CORRUPT naming both sizes', () => {
    for (const s of samples) {
      const e = expectCorrupt(s.bytes, s.name, { width: s.width, height: s.height + 1 });
      expect(e.message).toContain(`${s.width}×${s.height}`);
      expect(e.message).toContain(`${s.width}×${s.height + 1}`);
      expectCorrupt(s.bytes, `${s.name} swapped`, { width: s.height, height: s.width });
    }
  });

  it('a broken structure that no cut explains is OUTPUT_NOT_IMAGE and final', () => {
    const png = samples.find((s) => s.name === 'PNG')!.bytes;
    const noIhdr = Buffer.from(png);
    noIhdr.write('ABCD', 12, 'latin1'); // IHDR renamed: the CRC fails first unless we fix it
    noIhdr.writeUInt32BE(crc32(noIhdr.subarray(12, 12 + 4 + 13)), 12 + 4 + 13);
    const jpeg = samples.find((s) => s.name === 'baseline JPEG')!.bytes;
    const noMarker = Buffer.from(jpeg);
    noMarker[2] = 0x12; // the first segment's marker prefix
    const webp = samples.find((s) => s.name === 'lossy WEBP (VP8)')!.bytes;
    const noVp8 = Buffer.from(webp);
    noVp8.write('JUNK', 12, 'latin1');
    for (const [name, bytes] of [
      ['PNG without IHDR', noIhdr],
      ['JPEG without a marker after SOI', noMarker],
      ['WEBP without an image chunk', noVp8],
    ] as const) {
      const e = refusal(bytes);
      expect({ name, code: e.code, retryable: e.retryable }).toEqual({
        name,
        code: 'OUTPUT_NOT_IMAGE',
        retryable: false,
      });
    }
  });
});

function pngChunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at + 12 <= png.length; at += 12 + png.readUInt32BE(at)) {
    types.push(png.toString('latin1', at + 4, at + 8));
  }
  return types;
}

function pngChunkOffset(png: Buffer, type: string): number {
  for (let at = 8; at + 12 <= png.length; at += 12 + png.readUInt32BE(at)) {
    if (png.toString('latin1', at + 4, at + 8) === type) return at;
  }
  throw new Error(`no ${type} chunk`);
}
