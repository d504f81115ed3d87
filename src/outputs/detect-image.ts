// Proves bytes are a whole JPEG, PNG or WEBP from their headers alone: magic bytes pick the format, then
// the format's completeness check (check-png/-jpeg/-webp.ts) walks the structure and reads the size.
// Nothing is decoded, so this takes microseconds; no magic → OUTPUT_NOT_IMAGE, incomplete → OUTPUT_CORRUPT.
import { CONTENT_TYPES, type OutputFormat } from '../contract/index.js';
import { checkJpeg } from './check-jpeg.js';
import { checkPng } from './check-png.js';
import { checkWebp } from './check-webp.js';
import type { ImageSize } from './image-size.js';
import { notImage, outputCorrupt } from './output-errors.js';

export interface DetectedImage {
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
}

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RIFF = Buffer.from('RIFF', 'ascii');
const WEBP = Buffer.from('WEBP', 'ascii');
/** Offset of "WEBP" in a RIFF header: "RIFF", a 4-byte size, then the form type. */
const WEBP_FORM_OFFSET = 8;

const CHECKS: Readonly<Record<OutputFormat, (bytes: Buffer) => ImageSize>> = {
  JPG: checkJpeg,
  PNG: checkPng,
  WEBP: checkWebp,
};

export function formatFromMagic(bytes: Buffer): OutputFormat | undefined {
  if (startsWith(bytes, JPEG_MAGIC, 0)) return 'JPG';
  if (startsWith(bytes, PNG_MAGIC, 0)) return 'PNG';
  if (startsWith(bytes, RIFF, 0) && startsWith(bytes, WEBP, WEBP_FORM_OFFSET)) return 'WEBP';
  return undefined;
}

/**
 * Format, content type and size of a complete image. With `expected`, the size must match it exactly
 * (the task's width and height), else OUTPUT_CORRUPT.
 */
export function detectImage(bytes: Buffer, expected?: ImageSize): DetectedImage {
  const format = formatFromMagic(bytes);
  if (!format) throw notImage('bytes are not a JPEG, PNG or WEBP image');
  const { width, height } = CHECKS[format](bytes);
  if (expected && (width !== expected.width || height !== expected.height)) {
    throw outputCorrupt(
      `${format} is ${width}×${height}, the task asked for ${expected.width}×${expected.height}`,
    );
  }
  return { format, contentType: CONTENT_TYPES[format], width, height };
}

function startsWith(bytes: Buffer, magic: Buffer, offset: number): boolean {
  return bytes.length >= offset + magic.length && bytes.subarray(offset, offset + magic.length).equals(magic);
}
