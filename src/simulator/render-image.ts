// Real images of the requested size and format, rendered by sharp once per (size, format, quality,
// colour) and cached; each result is then the cached base plus a unique marker (image-marker.ts).
import sharp from 'sharp';
import type { OutputFormat } from '../contract/index.js';
import { markImage } from './image-marker.js';

/** Distinct colours results cycle through; bounds the number of bases per size and format. */
export const PALETTE_SIZE = 16;
/** Bases kept for reuse; one 1024×1024 JPG base is tens of kilobytes. */
const BASE_CACHE_LIMIT = 96;
const CHANNELS = 3;
const SATURATION = 0.65;
const LIGHTNESS = 0.55;
const SHADE = 0.45;

export interface ImageSpec {
  width: number;
  height: number;
  format: OutputFormat;
  quality: number;
  colour: number;
}

const cache = new Map<string, Promise<Buffer>>();

/** The encoded base for `spec`, rendered at most once while cached. */
export function renderBase(spec: ImageSpec): Promise<Buffer> {
  const key = `${spec.width}x${spec.height}:${spec.format}:${spec.quality}:${spec.colour % PALETTE_SIZE}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map order is our LRU order
    cache.set(key, hit);
    return hit;
  }
  const rendered = encode(spec);
  rendered.catch(() => cache.delete(key));
  cache.set(key, rendered);
  if (cache.size > BASE_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return rendered;
}

/** The exact bytes of one result: its base with the imageUUID embedded. */
export function assembleImage(base: Buffer, spec: ImageSpec, imageUUID: string): Buffer {
  return markImage(
    base,
    spec.format,
    `kontext-relay simulator imageUUID=${imageUUID}`,
    spec.width,
    spec.height,
  );
}

async function encode(spec: ImageSpec): Promise<Buffer> {
  const img = sharp(gradient(spec), { raw: { width: spec.width, height: spec.height, channels: CHANNELS } });
  switch (spec.format) {
    case 'JPG':
      return img.jpeg({ quality: spec.quality }).toBuffer();
    case 'PNG':
      return img.png().toBuffer();
    case 'WEBP':
      return img.webp({ quality: spec.quality }).toBuffer();
  }
}

/** A diagonal shade of the palette colour: cheap to build, and not a flat fill that hides bugs. */
function gradient({ width, height, colour }: ImageSpec): Buffer {
  const [r, g, b] = hslToRgb((colour % PALETTE_SIZE) / PALETTE_SIZE, SATURATION, LIGHTNESS);
  const out = Buffer.allocUnsafe(width * height * CHANNELS);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const f = 1 - SHADE * ((x / width + y / height) / 2);
      out[i++] = r * f;
      out[i++] = g * f;
      out[i++] = b * f;
    }
  }
  return out;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h * 12) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
