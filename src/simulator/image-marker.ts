// Makes a cached base image unique per result without re-encoding: a JPEG COM segment, a PNG tEXt
// chunk or a WebP XMP chunk carrying the imageUUID. Each result stays a valid file of its format.
import type { OutputFormat } from '../contract/index.js';

const JPEG_SOI_LENGTH = 2;
const JPEG_APP0 = 0xe0;
const JPEG_COM = 0xfe;
const JPEG_MAX_SEGMENT = 0xffff - 2;
const PNG_SIGNATURE_LENGTH = 8;
/** Length, type, 13 data bytes and CRC: IHDR is always the first chunk and always this long. */
const PNG_IHDR_CHUNK_LENGTH = 4 + 4 + 13 + 4;
const RIFF_HEADER_LENGTH = 12;
const CHUNK_HEADER_LENGTH = 8;
const VP8X_PAYLOAD_LENGTH = 10;
const VP8X_XMP_FLAG = 0x04;

export function markImage(
  base: Buffer,
  format: OutputFormat,
  text: string,
  width: number,
  height: number,
): Buffer {
  switch (format) {
    case 'JPG':
      return markJpeg(base, text);
    case 'PNG':
      return markPng(base, text);
    case 'WEBP':
      return markWebp(base, text, width, height);
  }
}

/** COM segment after SOI and, when present, after the JFIF APP0 that must come first. */
function markJpeg(base: Buffer, text: string): Buffer {
  const payload = Buffer.from(text, 'latin1').subarray(0, JPEG_MAX_SEGMENT);
  let at = JPEG_SOI_LENGTH;
  if (base[at] === 0xff && base[at + 1] === JPEG_APP0) at += 2 + base.readUInt16BE(at + 2);
  const header = Buffer.from([0xff, JPEG_COM, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([base.subarray(0, at), header, payload, base.subarray(at)]);
}

/** tEXt chunk ("Comment") right after IHDR, with its CRC. */
function markPng(base: Buffer, text: string): Buffer {
  const at = PNG_SIGNATURE_LENGTH + PNG_IHDR_CHUNK_LENGTH;
  const body = Buffer.concat([Buffer.from('tEXtComment\0', 'latin1'), Buffer.from(text, 'latin1')]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length - 4, 0);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([base.subarray(0, at), length, body, crc, base.subarray(at)]);
}

/**
 * XMP chunk at the end of an extended (VP8X) file. A simple file (VP8/VP8L first) gets a VP8X
 * header in front, since only the extended format may carry metadata chunks.
 */
function markWebp(base: Buffer, text: string, width: number, height: number): Buffer {
  const firstChunk = base.toString('latin1', RIFF_HEADER_LENGTH, RIFF_HEADER_LENGTH + 4);
  let chunks = base.subarray(RIFF_HEADER_LENGTH);
  if (firstChunk === 'VP8X') {
    chunks = Buffer.from(chunks);
    chunks[CHUNK_HEADER_LENGTH] = (chunks[CHUNK_HEADER_LENGTH] ?? 0) | VP8X_XMP_FLAG;
  } else {
    chunks = Buffer.concat([vp8xChunk(width, height), chunks]);
  }
  const xmp = riffChunk('XMP ', Buffer.from(xmpPacket(text), 'utf8'));
  const header = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
  header.writeUInt32LE(4 + chunks.length + xmp.length, 4);
  return Buffer.concat([header, chunks, xmp]);
}

function vp8xChunk(width: number, height: number): Buffer {
  const payload = Buffer.alloc(VP8X_PAYLOAD_LENGTH);
  payload[0] = VP8X_XMP_FLAG;
  payload.writeUIntLE(width - 1, 4, 3);
  payload.writeUIntLE(height - 1, 7, 3);
  return riffChunk('VP8X', payload);
}

function riffChunk(fourCC: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(CHUNK_HEADER_LENGTH);
  header.write(fourCC, 0, 'latin1');
  header.writeUInt32LE(payload.length, 4);
  const pad = payload.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([header, payload, pad]);
}

function xmpPacket(text: string): string {
  const safe = text.replace(/[<>&]/g, '');
  return (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    `<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier>${safe}` +
    '</dc:identifier></rdf:Description></rdf:RDF></x:xmpmeta>'
  );
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309), as PNG chunks require. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
