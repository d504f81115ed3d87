// Proves a WEBP is whole without decoding it: the RIFF size field must equal the byte length, and the
// chunks inside must tile it exactly. Returns the canvas size from the VP8X, VP8 or VP8L header.
// Sizes that disagree with the length → OUTPUT_CORRUPT; a missing or malformed image header → OUTPUT_NOT_IMAGE.
import type { ImageSize } from './image-size.js';
import { notImage, outputCorrupt } from './output-errors.js';

/** "RIFF", the 4-byte size, "WEBP". The RIFF size counts every byte after its own field. */
const RIFF_HEADER_LENGTH = 12;
const RIFF_SIZE_BASE = 8;
const CHUNK_HEADER_LENGTH = 8;
const VP8_START_CODE = [0x9d, 0x01, 0x2a] as const;
const VP8L_SIGNATURE = 0x2f;
const FOURTEEN_BITS = 0x3fff;
const IMAGE_CHUNKS = new Set(['VP8 ', 'VP8L', 'ANMF']);

export function checkWebp(bytes: Buffer): ImageSize {
  const riffSize = bytes.readUInt32LE(4);
  if (riffSize + RIFF_SIZE_BASE !== bytes.length) {
    throw outputCorrupt(
      `WEBP RIFF header declares ${riffSize + RIFF_SIZE_BASE} bytes, the file is ${bytes.length}`,
    );
  }
  let size: ImageSize | undefined;
  let hasImage = false;
  let at = RIFF_HEADER_LENGTH;
  while (at < bytes.length) {
    if (at + CHUNK_HEADER_LENGTH > bytes.length) throw chunkPastEnd(bytes, at);
    const fourcc = bytes.toString('latin1', at, at + 4);
    const length = bytes.readUInt32LE(at + 4);
    const data = at + CHUNK_HEADER_LENGTH;
    // Odd-sized chunks carry one pad byte, which the RIFF size includes.
    const end = data + length + (length % 2);
    if (end > bytes.length) throw chunkPastEnd(bytes, at);
    if (size === undefined) size = readImageHeader(bytes, fourcc, data, length);
    if (IMAGE_CHUNKS.has(fourcc)) hasImage = true;
    at = end;
  }
  if (!size || !hasImage) throw notImage('WEBP holds no image chunk');
  return size;
}

function readImageHeader(bytes: Buffer, fourcc: string, data: number, length: number): ImageSize {
  switch (fourcc) {
    case 'VP8X': {
      if (length < 10) break;
      return sized(1 + bytes.readUIntLE(data + 4, 3), 1 + bytes.readUIntLE(data + 7, 3));
    }
    case 'VP8 ': {
      if (length < 10 || VP8_START_CODE.some((b, i) => bytes[data + 3 + i] !== b)) break;
      return sized(
        bytes.readUInt16LE(data + 6) & FOURTEEN_BITS,
        bytes.readUInt16LE(data + 8) & FOURTEEN_BITS,
      );
    }
    case 'VP8L': {
      if (length < 5 || bytes[data] !== VP8L_SIGNATURE) break;
      const bits = bytes.readUInt32LE(data + 1);
      return sized(1 + (bits & FOURTEEN_BITS), 1 + ((bits >>> 14) & FOURTEEN_BITS));
    }
  }
  throw notImage(`WEBP does not start with a valid VP8X, VP8 or VP8L header (found "${fourcc}")`);
}

function sized(width: number, height: number): ImageSize {
  if (width === 0 || height === 0) throw notImage(`WEBP header says ${width}×${height}`);
  return { width, height };
}

function chunkPastEnd(bytes: Buffer, at: number) {
  return outputCorrupt(`WEBP chunk at offset ${at} runs past the end of the file (${bytes.length} bytes)`);
}
