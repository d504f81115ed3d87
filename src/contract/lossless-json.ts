// JSON with integers wider than 2^53 carried exactly. Seeds go up to 2^63-1, which a JS number cannot
// hold: inside the process a seed is a decimal string; on the wire it is a bare JSON integer.
import { randomBytes } from 'node:crypto';
import { RelayError } from '../errors.js';

/** Keys whose integer values may exceed Number.MAX_SAFE_INTEGER. */
export const WIDE_INTEGER_KEYS = ['seed'] as const;

/**
 * The marker a wide integer is written as before its quotes are dropped. Random per process: a string in
 * the value (a prompt, say) cannot know it, so it can never be mistaken for a marker.
 */
const MARKER = `__kr_int_${randomBytes(9).toString('hex')}_`;
const MARKER_RE = new RegExp(`"${MARKER}(-?\\d+)"`, 'g');
const DIGITS = /^-?\d+$/;

/**
 * Serialise `value`, writing every wide-integer key whose value is a decimal string (or bigint)
 * as a bare JSON number with all its digits. Only bodies that can carry one need it (a submit with a
 * seed); elsewhere JSON.stringify is the same text for less work.
 */
export function stringifyLossless(value: unknown, keys: readonly string[] = WIDE_INTEGER_KEYS): string {
  let marked = false;
  const json = JSON.stringify(value, (key, v: unknown) => {
    if (typeof v === 'bigint') {
      marked = true;
      return `${MARKER}${v.toString()}`;
    }
    if (typeof v === 'string' && keys.includes(key) && DIGITS.test(v)) {
      marked = true;
      return `${MARKER}${v}`;
    }
    return v;
  });
  return marked ? json.replace(MARKER_RE, '$1') : json;
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
  const quoted = text.replace(wideIntegerPattern(keys), '$1"$2"');
  return JSON.parse(quoted);
}

/** Compiled once per key list (in practice: once, for WIDE_INTEGER_KEYS). */
const PATTERNS = new Map<string, RegExp>();

/**
 * The pattern that quotes a wide-integer key's bare integer: only `"seed": 123` where the key is a real
 * key (preceded by { or ,), not text in a string. Global, so `replace` resets its lastIndex on each use.
 */
export function wideIntegerPattern(keys: readonly string[]): RegExp {
  const keyAlt = keys.map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  let re = PATTERNS.get(keyAlt);
  if (!re) {
    re = new RegExp(`([{,]\\s*"(?:${keyAlt})"\\s*:\\s*)(-?\\d+)(?=\\s*[,}])`, 'g');
    PATTERNS.set(keyAlt, re);
  }
  return re;
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
