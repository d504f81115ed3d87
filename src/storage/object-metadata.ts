// User metadata travels as `x-amz-meta-*` HTTP headers, so names must be header tokens and values ASCII.
// Values that are not plain printable ASCII are RFC 2047-encoded on write and decoded on read: no value is lost.
import { StorageError } from '../errors.js';

/** What S3 itself lower-cases names to; anything outside it would not survive the round trip. */
const METADATA_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ENCODED_WORD = /^=\?UTF-8\?B\?([A-Za-z0-9+/]*={0,2})\?=$/i;

/** Metadata ready for S3: names lower-cased and checked, values header-safe. */
export function encodeMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(metadata)) {
    const name = rawName.toLowerCase();
    // Names come from our code, not from users: a bad one is a bug to surface, not data to mangle.
    if (!METADATA_NAME.test(name)) throw new StorageError(`invalid metadata name "${rawName}"`);
    out[name] = needsEncoding(value) ? `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=` : value;
  }
  return out;
}

/** The inverse of encodeMetadata, applied to what HeadObject returns. */
export function decodeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const m = ENCODED_WORD.exec(value);
    out[name] = m?.[1] !== undefined ? Buffer.from(m[1], 'base64').toString('utf8') : value;
  }
  return out;
}

function needsEncoding(value: string): boolean {
  // Edge whitespace is trimmed by HTTP, and a value shaped like an encoded word would be misread on decode.
  return !PRINTABLE_ASCII.test(value) || value !== value.trim() || ENCODED_WORD.test(value);
}
