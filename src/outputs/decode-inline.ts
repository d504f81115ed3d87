// Strict decoding of inline results (imageBase64Data, imageDataURI). Node's base64 decoder skips characters
// it does not know; we refuse them instead, and refuse oversized payloads before allocating their bytes.
import { notImage, tooLarge } from './output-errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** `data:<mime>[;param=value]*;base64,<payload>`; only the image MIME type is kept. */
const DATA_URI = /^data:([^;,]*)((?:;[^;,]*)*),/i;

export function decodeBase64Strict(data: string, maxBytes: number): Buffer {
  // A length of 4n+1 cannot come from any byte sequence; padding must end the string.
  if (!BASE64.test(data) || data.length % 4 === 1 || (data.includes('=') && data.length % 4 !== 0)) {
    throw notImage('base64 data holds characters or padding outside the base64 alphabet');
  }
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  const size = Math.floor((data.length * 3) / 4) - padding;
  if (size > maxBytes) throw tooLarge(`inline output is ${size} bytes, the limit is ${maxBytes}`);
  if (size === 0) throw notImage('base64 data is empty');
  return Buffer.from(data, 'base64');
}

export function decodeDataUri(uri: string, maxBytes: number): Buffer {
  const m = DATA_URI.exec(uri);
  if (!m) throw notImage('not a data: URI');
  const mime = (m[1] ?? '').trim().toLowerCase();
  const params = (m[2] ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (!mime.startsWith('image/')) throw notImage(`data URI type "${mime || 'none'}" is not an image`);
  if (params.at(-1) !== 'base64') throw notImage('data URI is not base64-encoded');
  return decodeBase64Strict(uri.slice(m[0].length), maxBytes);
}
