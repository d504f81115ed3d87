// JSON with integers wider than 2^53 carried exactly. Seeds go up to 2^63-1, which a JS number cannot
// hold: inside the process a seed is a decimal string; on the wire it is a bare JSON integer.
import { randomBytes } from 'node:crypto';
import { RelayError } from '../errors.js';

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
 * Deepest nesting of arrays and objects parseLossless accepts. Provider bodies and tasks nest a few
 * levels; a value 10,000 deep parses, but recursive code downstream (stringifyLossless's replacer,
 * schema walks) overflows the stack on it, so it is refused here, where the reason can be named.
 */
export const MAX_JSON_DEPTH = 64;

/** JSON text nested deeper than MAX_JSON_DEPTH. */
export class JsonTooDeepError extends RelayError {
  constructor(readonly maxDepth: number) {
    super('JSON_TOO_DEEP', `JSON nests deeper than ${maxDepth} levels`);
  }
}

/**
 * Parse JSON text, turning every wide-integer key's integer value into a decimal string so no digit is
 * lost. Other numbers parse as usual. Text nested deeper than `maxDepth` throws JsonTooDeepError.
 */
export function parseLossless(
  text: string,
  keys: readonly string[] = WIDE_INTEGER_KEYS,
  maxDepth = MAX_JSON_DEPTH,
): unknown {
  if (nestingDepth(text) > maxDepth) throw new JsonTooDeepError(maxDepth);
  const keyAlt = keys.map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  // Only rewrite `"seed": 123` where the key is a real key (preceded by { or ,), not text in a string.
  const quoted = text.replace(
    new RegExp(`([{,]\\s*"(?:${keyAlt})"\\s*:\\s*)(-?\\d+)(?=\\s*[,}])`, 'g'),
    '$1"$2"',
  );
  return JSON.parse(quoted);
}

/** The deepest nesting of [ and { outside strings (one linear pass, no parse). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
