// JSON with integers wider than 2^53 carried exactly. Seeds go up to 2^63-1, which a JS number cannot
// hold: inside the process a seed is a decimal string; on the wire it is a bare JSON integer.
import { randomBytes } from 'node:crypto';

/** Keys whose integer values may exceed Number.MAX_SAFE_INTEGER. */
export const WIDE_INTEGER_KEYS = ['seed'] as const;

/**
 * Serialise `value`, writing every wide-integer key whose value is a decimal string (or bigint)
 * as a bare JSON number with all its digits.
 */
export function stringifyLossless(value: unknown, keys: readonly string[] = WIDE_INTEGER_KEYS): string {
  const nonce = randomBytes(6).toString('hex');
  const marker = `__kr_int_${nonce}_`;
  const json = JSON.stringify(value, (key, v: unknown) => {
    if (typeof v === 'bigint') return `${marker}${v.toString()}`;
    if (keys.includes(key) && typeof v === 'string' && /^-?\d+$/.test(v)) return `${marker}${v}`;
    return v;
  });
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

/**
 * Parse JSON text, turning every wide-integer key's integer value into a decimal string so no digit is
 * lost. Other numbers parse as usual.
 */
export function parseLossless(text: string, keys: readonly string[] = WIDE_INTEGER_KEYS): unknown {
  const keyAlt = keys.map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  // Only rewrite `"seed": 123` where the key is a real key (preceded by { or ,), not text in a string.
  const quoted = text.replace(
    new RegExp(`([{,]\\s*"(?:${keyAlt})"\\s*:\\s*)(-?\\d+)(?=\\s*[,}])`, 'g'),
    '$1"$2"',
  );
  return JSON.parse(quoted);
}
