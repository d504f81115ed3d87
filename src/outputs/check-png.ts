// Proves a PNG is whole without decoding it: walks every chunk from IHDR to IEND, checking each chunk's
// CRC, and allows no byte after IEND. Returns the size from IHDR. Cut or damaged → OUTPUT_CORRUPT.
import { crc32 } from 'node:zlib';
import type { ImageSize } from './image-size.js';
import { notImage, outputCorrupt } from './output-errors.js';

const SIGNATURE_LENGTH = 8;
/** Length (4), type (4), then data, then CRC (4). */
const CHUNK_OVERHEAD = 12;
const IHDR_LENGTH = 13;
/** The PNG spec caps a chunk's length at 2^31-1. */
const MAX_CHUNK_LENGTH = 0x7fff_ffff;
const CHUNK_TYPE = /^[A-Za-z]{4}$/;

export function checkPng(bytes: Buffer): ImageSize {
  let at = SIGNATURE_LENGTH;
  let size: ImageSize | undefined;
  let sawIdat = false;
  while (at < bytes.length) {
    if (at + CHUNK_OVERHEAD > bytes.length) throw cut(bytes, `a chunk header at offset ${at}`);
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (length > MAX_CHUNK_LENGTH || !CHUNK_TYPE.test(type)) {
      throw notImage(`PNG has no valid chunk at offset ${at}`);
    }
    const end = at + CHUNK_OVERHEAD + length;
    if (end > bytes.length) throw cut(bytes, `chunk ${type} at offset ${at} (${length} data bytes)`);
    const stored = bytes.readUInt32BE(end - 4);
    if (crc32(bytes.subarray(at + 4, end - 4)) !== stored) {
      throw outputCorrupt(`PNG chunk ${type} at offset ${at} fails its CRC check`);
    }
    if (size === undefined) size = readIhdr(bytes, at, type, length);
    else if (type === 'IDAT') sawIdat = true;
    else if (type === 'IEND') {
      if (!sawIdat) throw notImage('PNG has no IDAT chunk before IEND');
      if (end !== bytes.length) {
        throw outputCorrupt(
          `PNG has ${bytes.length - end} byte(s) after IEND (file is ${bytes.length} bytes)`,
        );
      }
      return size;
    }
    at = end;
  }
  throw cut(bytes, 'IEND');
}

function readIhdr(bytes: Buffer, at: number, type: string, length: number): ImageSize {
  if (type !== 'IHDR' || length !== IHDR_LENGTH) throw notImage('PNG does not start with an IHDR chunk');
  const width = bytes.readUInt32BE(at + 8);
  const height = bytes.readUInt32BE(at + 12);
  if (width === 0 || height === 0) throw notImage(`PNG IHDR says ${width}×${height}`);
  return { width, height };
}

function cut(bytes: Buffer, missing: string) {
  return outputCorrupt(`PNG ends after ${bytes.length} bytes, before ${missing}`);
}
