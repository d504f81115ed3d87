// Broken copies of a valid image, for the body faults: each is what a provider or a network might hand
// over instead of the whole file. The generated image itself (results(), imageBytes()) stays intact.
import type { OutputFormat } from '../contract/index.js';
import { crc32 } from './image-marker.js';

/** The body faults, in the order they are rolled; each applies to the formats its function accepts. */
export const BODY_DAMAGES = ['truncateImage', 'pngCutIdat', 'jpegNoEoi', 'webpSizeMismatch'] as const;
export type BodyDamage = (typeof BODY_DAMAGES)[number];

/** base64Prefix: how many base64 characters of the image an inline item keeps (75 bytes, no padding). */
export const BASE64_PREFIX_CHARS = 100;
/** webpSizeMismatch: how many bytes the RIFF size field claims beyond the real length. */
export const WEBP_SIZE_EXCESS = 16;
const PNG_SIGNATURE_LENGTH = 8;
const PNG_CHUNK_OVERHEAD = 12;
const JPEG_EOI_LENGTH = 2;

/** The damaged bytes, or undefined when `kind` does not apply to `format` (the body is left whole). */
export function damageImage(bytes: Buffer, format: OutputFormat, kind: BodyDamage): Buffer | undefined {
  switch (kind) {
    case 'truncateImage':
      return bytes.subarray(0, Math.floor(bytes.length / 3));
    case 'pngCutIdat':
      return format === 'PNG' ? cutPngIdat(bytes) : undefined;
    case 'jpegNoEoi':
      return format === 'JPG' ? bytes.subarray(0, bytes.length - JPEG_EOI_LENGTH) : undefined;
    case 'webpSizeMismatch':
      return format === 'WEBP' ? misstateRiffSize(bytes) : undefined;
  }
}

/**
 * Signature, IHDR and every chunk before the first IDAT, then that IDAT holding only the first half of
 * its data (length and CRC rewritten, so the chunk itself is well-formed), then nothing: no IEND.
 */
export function cutPngIdat(bytes: Buffer): Buffer {
  let at = PNG_SIGNATURE_LENGTH;
  while (at + PNG_CHUNK_OVERHEAD <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT') {
      const kept = Math.floor(length / 2);
      const chunk = Buffer.alloc(PNG_CHUNK_OVERHEAD + kept);
      chunk.writeUInt32BE(kept, 0);
      bytes.copy(chunk, 4, at + 4, at + 8 + kept);
      chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + kept)), 8 + kept);
      return Buffer.concat([bytes.subarray(0, at), chunk]);
    }
    at += PNG_CHUNK_OVERHEAD + length;
  }
  throw new Error('PNG without an IDAT chunk');
}

function misstateRiffSize(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32LE(out.readUInt32LE(4) + WEBP_SIZE_EXCESS, 4);
  return out;
}
