// Proves bytes are a JPEG, PNG or WEBP: magic bytes first (cheap, exact), then sharp reads the headers for
// format and dimensions. Nothing is decoded beyond the headers, so this stays fast for large images.
import sharp, { type Metadata } from 'sharp';
import { CONTENT_TYPES, type OutputFormat } from '../contract/index.js';
import { notImage } from './output-errors.js';

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

/** sharp's name for each format we accept. */
const SHARP_FORMATS: Readonly<Record<OutputFormat, string>> = { JPG: 'jpeg', PNG: 'png', WEBP: 'webp' };

export function formatFromMagic(bytes: Buffer): OutputFormat | undefined {
  if (startsWith(bytes, JPEG_MAGIC, 0)) return 'JPG';
  if (startsWith(bytes, PNG_MAGIC, 0)) return 'PNG';
  if (startsWith(bytes, RIFF, 0) && startsWith(bytes, WEBP, WEBP_FORM_OFFSET)) return 'WEBP';
  return undefined;
}

export async function detectImage(bytes: Buffer): Promise<DetectedImage> {
  const format = formatFromMagic(bytes);
  if (!format) throw notImage('bytes are not a JPEG, PNG or WEBP image');
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw notImage(`unreadable ${format} image: ${(err as Error).message}`, err);
  }
  if (meta.format !== SHARP_FORMATS[format] || !meta.width || !meta.height) {
    throw notImage(`${format} signature but the headers say ${meta.format ?? 'nothing'} without dimensions`);
  }
  return { format, contentType: CONTENT_TYPES[format], width: meta.width, height: meta.height };
}

function startsWith(bytes: Buffer, magic: Buffer, offset: number): boolean {
  return bytes.length >= offset + magic.length && bytes.subarray(offset, offset + magic.length).equals(magic);
}
