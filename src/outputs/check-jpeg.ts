// Proves a JPEG is whole without decoding it: walks the marker segments (size from the SOF header),
// skips each scan's entropy-coded data to its next marker, and requires the EOI marker as the last two
// bytes. Cut short → OUTPUT_CORRUPT; a broken marker sequence → OUTPUT_NOT_IMAGE.
import type { ImageSize } from './image-size.js';
import { notImage, outputCorrupt } from './output-errors.js';

const MARKER = 0xff;
const SOI_LENGTH = 2;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const RST0 = 0xd0;
const RST7 = 0xd7;
/** Start-of-frame markers C0–CF, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size. */
const NOT_SOF = new Set([0xc4, 0xc8, 0xcc]);

export function checkJpeg(bytes: Buffer): ImageSize {
  let size: ImageSize | undefined;
  let scans = 0;
  let at = SOI_LENGTH;
  for (;;) {
    if (at >= bytes.length) throw cut(bytes);
    if (bytes[at] !== MARKER) throw notImage(`JPEG has no marker at offset ${at}`);
    while (bytes[at] === MARKER) at++; // fill bytes may pad any marker
    if (at >= bytes.length) throw cut(bytes);
    const marker = bytes[at++]!;
    if (marker === EOI) return finish(bytes, at, size, scans);
    if (marker === TEM || (marker >= RST0 && marker <= RST7)) continue; // no length, no payload
    if (marker === 0x00) throw notImage(`JPEG has a stuffed byte where a marker belongs at offset ${at - 1}`);
    if (at + 2 > bytes.length) throw cut(bytes);
    const length = bytes.readUInt16BE(at);
    if (length < 2) throw notImage(`JPEG segment at offset ${at - 2} has length ${length}`);
    if (at + length > bytes.length) throw cut(bytes);
    if (isSof(marker)) size = readSof(bytes, at, length);
    at += length;
    if (marker === SOS) {
      scans++;
      at = skipEntropyData(bytes, at);
    }
  }
}

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && !NOT_SOF.has(marker);
}

/** SOF payload: precision (1), height (2), width (2), … — after the 2-byte length. */
function readSof(bytes: Buffer, at: number, length: number): ImageSize {
  if (length < 7) throw notImage(`JPEG frame header at offset ${at} is too short`);
  const height = bytes.readUInt16BE(at + 3);
  const width = bytes.readUInt16BE(at + 5);
  // Height 0 means "defined by a later DNL marker"; FLUX never writes it, and we cannot check it cheaply.
  if (width === 0 || height === 0) throw notImage(`JPEG frame header says ${width}×${height}`);
  return { width, height };
}

/** The offset of the marker that ends a scan: FF followed by neither 00 (stuffing) nor RSTn. */
function skipEntropyData(bytes: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const ff = bytes.indexOf(MARKER, at);
    if (ff < 0 || ff + 1 >= bytes.length) throw cut(bytes);
    const next = bytes[ff + 1]!;
    if (next === 0x00 || (next >= RST0 && next <= RST7)) at = ff + 2;
    else if (next === MARKER) at = ff + 1;
    else return ff;
  }
}

function finish(bytes: Buffer, end: number, size: ImageSize | undefined, scans: number): ImageSize {
  if (!size || scans === 0) throw notImage('JPEG reaches EOI without a frame header and a scan');
  if (end !== bytes.length) {
    throw outputCorrupt(`JPEG has ${bytes.length - end} byte(s) after EOI (file is ${bytes.length} bytes)`);
  }
  return size;
}

function cut(bytes: Buffer) {
  return outputCorrupt(`JPEG ends after ${bytes.length} bytes without its EOI marker`);
}
