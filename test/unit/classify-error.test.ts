import { describe, expect, it } from 'vitest';
import { categorise, httpStatusError, toProviderError } from '../../src/provider/classify-error.js';

describe('provider error classification', () => {
  it.each([
    ['invalidWidth', 400, 'validation', false],
    ['unsupportedParameter', 400, 'validation', false],
    ['invalidApiKey', 401, 'auth', false],
    ['insufficientCredits', 402, 'quota', false],
    ['rateLimitExceeded', 429, 'rateLimit', true],
    ['timeoutProvider', 200, 'timeout', true],
    ['failedTaskTimeout', 504, 'timeout', true],
    ['providerUnavailable', 503, 'provider', true],
    ['contentPolicyViolation', 400, 'safety', false],
    ['someNewCode', 503, 'serverError', true],
    ['someNewCode', 400, 'validation', false],
  ] as const)('%s (HTTP %i) is %s, retryable %s', (code, status, category, retryable) => {
    expect(categorise(code, status)).toBe(category);
    expect(toProviderError({ code, message: 'm' }, status).retryable).toBe(retryable);
  });

  it('an error body that is not JSON still classifies by status', () => {
    expect(httpStatusError(502, '<html>bad gateway</html>')).toMatchObject({
      category: 'serverError',
      retryable: true,
    });
    expect(httpStatusError(403, '')).toMatchObject({ category: 'auth', retryable: false });
  });
});
