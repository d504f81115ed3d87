import { describe, expect, it } from 'vitest';
import {
  JsonTooDeepError,
  parseLossless,
  stringifyLossless,
  WIDE_INTEGER_KEYS,
  wideIntegerPattern,
} from '../../src/contract/index.js';

describe('lossless JSON on the hot path', () => {
  it('compiles the wide-integer pattern once per key list', () => {
    expect(wideIntegerPattern(WIDE_INTEGER_KEYS)).toBe(wideIntegerPattern(['seed']));
    expect(wideIntegerPattern(['seed', 'bound'])).not.toBe(wideIntegerPattern(WIDE_INTEGER_KEYS));
  });

  it('parses correctly on every call with the shared global pattern (no lastIndex carried over)', () => {
    const text = '[{"seed":9223372036854775807},{"seed":18446744073709551615}]';
    for (let i = 0; i < 3; i++) {
      expect(parseLossless(text)).toEqual([
        { seed: '9223372036854775807' },
        { seed: '18446744073709551615' },
      ]);
    }
    expect(parseLossless('{"other":12}')).toEqual({ other: 12 });
    expect(() => parseLossless('['.repeat(70) + ']'.repeat(70))).toThrow(JsonTooDeepError);
  });

  it('writes the same text as JSON.stringify when no wide integer is present', () => {
    const v = [{ taskType: 'getResponse', taskUUID: 'a', note: '__kr_int_x_12', n: 5 }];
    expect(stringifyLossless(v)).toBe(JSON.stringify(v));
  });

  it('writes seeds and bigints bare, every call, and leaves look-alike strings quoted', () => {
    for (let i = 0; i < 3; i++) {
      expect(
        stringifyLossless({ seed: '9223372036854775807', big: 12345678901234567890n, s: '"seed":1' }),
      ).toBe('{"seed":9223372036854775807,"big":12345678901234567890,"s":"\\"seed\\":1"}');
    }
    // A non-integer seed string is not rewritten.
    expect(stringifyLossless({ seed: '12a' })).toBe('{"seed":"12a"}');
  });

  it('round-trips a seed of 2^63-1', () => {
    const text = stringifyLossless([{ seed: '9223372036854775807' }]);
    expect(parseLossless(text)).toEqual([{ seed: '9223372036854775807' }]);
  });
});
