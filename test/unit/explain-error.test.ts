// What the CLI prints for a failure: one line and a hint for what the user can fix; a stack only for
// errors it does not recognise, or with KR_DEBUG=1.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { explainError, reportError } from '../../src/cli/explain-error.js';
import { ConfigError } from '../../src/errors.js';

function sysError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}

afterEach(() => vi.restoreAllMocks());

describe('explainError', () => {
  it('names what went wrong and how to fix it', () => {
    expect(explainError(sysError('x', { code: 'ENOENT', path: 'a.jsonl' }))).toMatchObject({
      message: 'error: no such file: a.jsonl',
      hint: expect.any(String),
      unexpected: false,
    });
    expect(explainError(sysError('x', { code: 'EADDRINUSE', port: 8787 })).message).toBe(
      'error: port 8787 is already in use',
    );
    expect(
      explainError(sysError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), {
        REDIS_URL: 'redis://:s3cret@db:6379',
      }).message,
    ).toBe('error: cannot reach Redis at redis://:***@db:6379');
    expect(explainError(new ConfigError('PORT must be a number'))).toMatchObject({
      message: 'error: PORT must be a number',
      exitCode: EXIT.CONFIG,
    });
  });

  it('prints a stack only for unrecognised errors or with KR_DEBUG=1', () => {
    const printed: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: unknown) => {
      printed.push(String(s));
    });
    reportError(sysError('x', { code: 'ENOENT', path: 'a.jsonl' }), {});
    expect(printed.some((l) => /\n\s+at /.test(l))).toBe(false);
    reportError(sysError('x', { code: 'ENOENT', path: 'a.jsonl' }), { KR_DEBUG: '1' });
    expect(printed.some((l) => /\n\s+at /.test(l))).toBe(true);
    printed.length = 0;
    expect(reportError(new TypeError('boom\nsecond line'), {})).toBe(EXIT.FAILURES);
    expect(printed[0]).toBe('error: boom');
    expect(printed.some((l) => /\n\s+at /.test(l))).toBe(true);
  });
});
