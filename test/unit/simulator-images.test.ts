// The simulator's image pipeline and pure helpers: cached bases made unique by a marker must stay
// valid files that sharp decodes at the requested size; retry and seed arithmetic hold their bounds.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MODELS, SEED_MAX } from '../../src/contract/index.js';
import { crc32 } from '../../src/simulator/image-marker.js';
import { createRandom } from '../../src/simulator/random.js';
import { assembleImage, renderBase } from '../../src/simulator/render-image.js';
import { itemSeed } from '../../src/simulator/result-item.js';
import { retryDelay } from '../../src/simulator/webhook-sender.js';

const SHARP_NAMES = { JPG: 'jpeg', PNG: 'png', WEBP: 'webp' } as const;
const UUID_A = '0f8e5a52-7b1d-4c8e-9d3f-0a1b2c3d4e5f';
const UUID_B = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

describe('simulator images', () => {
  it.each(['JPG', 'PNG', 'WEBP'] as const)('a marked %s decodes at every allowed size', async (format) => {
    for (const { width, height } of MODELS['bfl:3@1']!.sizes) {
      const spec = { width, height, format, quality: 75, colour: width % 16 };
      const bytes = assembleImage(await renderBase(spec), spec, UUID_A);
      const meta = await sharp(bytes).metadata();
      expect(meta).toMatchObject({ format: SHARP_NAMES[format], width, height });
      const { info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect(info).toMatchObject({ width, height });
    }
  });

  it.each(['JPG', 'PNG', 'WEBP'] as const)(
    'two results from one cached %s base differ only by their marker',
    async (format) => {
      const spec = { width: 1024, height: 1024, format, quality: 90, colour: 1 };
      const base = await renderBase(spec);
      expect(await renderBase(spec)).toBe(base); // rendered once
      const a = assembleImage(base, spec, UUID_A);
      const b = assembleImage(base, spec, UUID_B);
      expect(a.equals(b)).toBe(false);
      expect(a.length).toBe(b.length);
      expect(a.includes(Buffer.from(UUID_A))).toBe(true);
      expect(assembleImage(base, spec, UUID_A).equals(a)).toBe(true); // reassembly is exact
    },
  );

  it('applies outputQuality to JPG and WEBP', async () => {
    for (const format of ['JPG', 'WEBP'] as const) {
      const low = await renderBase({ width: 1024, height: 1024, format, quality: 20, colour: 5 });
      const high = await renderBase({ width: 1024, height: 1024, format, quality: 99, colour: 5 });
      expect(high.length).toBeGreaterThan(low.length);
    }
  });

  it('carries the imageUUID where readers find it: a PNG tEXt comment and WebP XMP', async () => {
    const png = { width: 832, height: 1248, format: 'PNG' as const, quality: 95, colour: 2 };
    const pngMeta = await sharp(assembleImage(await renderBase(png), png, UUID_A)).metadata();
    expect(pngMeta.comments).toEqual([{ keyword: 'Comment', text: expect.stringContaining(UUID_A) }]);
    const webp = { width: 832, height: 1248, format: 'WEBP' as const, quality: 95, colour: 2 };
    const webpMeta = await sharp(assembleImage(await renderBase(webp), webp, UUID_A)).metadata();
    expect(webpMeta.xmp?.toString()).toContain(UUID_A);
  });

  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('simulator webhook retry schedule', () => {
  it('doubles from the base delay up to the cap, within ±20% jitter', () => {
    const random = createRandom(3);
    const expected = [250, 500, 1000, 2000, 4000, 8000, 8000];
    expected.forEach((nominal, i) => {
      for (let k = 0; k < 50; k++) {
        const d = retryDelay(i + 1, 250, 8000, random);
        expect(d).toBeGreaterThanOrEqual(nominal * 0.8);
        expect(d).toBeLessThanOrEqual(nominal * 1.2);
      }
    });
  });
});

describe('simulator result seeds', () => {
  const never = () => {
    throw new Error('no random seed expected');
  };

  it('uses the given seed for item 0 and adds the index for the others, exactly', () => {
    expect(itemSeed('9007199254740993', 0, never)).toBe('9007199254740993');
    expect(itemSeed('9007199254740993', 3, never)).toBe('9007199254740996');
  });

  it('wraps past the largest seed instead of leaving the allowed range', () => {
    expect(itemSeed(SEED_MAX.toString(), 0, never)).toBe('9223372036854775807');
    expect(itemSeed(SEED_MAX.toString(), 1, never)).toBe('0');
  });

  it('draws a random unsigned 32-bit seed when none was given', () => {
    const random = createRandom(1);
    for (let i = 0; i < 100; i++) {
      const n = Number(itemSeed(undefined, i, random.int));
      expect(Number.isInteger(n) && n >= 0 && n <= 0xffffffff).toBe(true);
    }
  });
});
