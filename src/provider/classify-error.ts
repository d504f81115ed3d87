// Maps a provider error (its code, else the HTTP status) to a category and a retry decision.
// Code tables follow the official SDK's categories (shared contract §1.6); codes drift, so the HTTP
// status decides when the code is unknown.

import type { ProviderErrorObject } from '../contract/index.js';
import { ProviderError, type ProviderErrorCategory } from '../errors.js';

const BY_CODE: Readonly<Record<string, ProviderErrorCategory>> = {
  invalidApiKey: 'auth',
  missingApiKey: 'auth',
  unauthorized: 'auth',
  forbidden: 'auth',
  insufficientCredits: 'quota',
  providerInsufficientCredits: 'quota',
  paymentRequired: 'quota',
  rateLimitExceeded: 'rateLimit',
  inferenceRateLimitExceeded: 'rateLimit',
  providerRateLimitExceeded: 'rateLimit',
  timeoutProvider: 'timeout',
  failedTaskTimeout: 'timeout',
  providerTimeout: 'timeout',
  webhookTimeout: 'timeout',
  contentPolicyViolation: 'safety',
  providerContentPolicyViolation: 'safety',
  nsfwContentDetected: 'safety',
  promptBlocked: 'safety',
  imageBlocked: 'safety',
  providerError: 'provider',
  providerUnavailable: 'provider',
  inferenceError: 'provider',
  taskFailed: 'provider',
  uploadFailed: 'provider',
  noAvailableServer: 'provider',
  modelUnavailable: 'provider',
  serverError: 'serverError',
  taskNotFound: 'notFound',
  taskExpired: 'notFound',
  taskFailedOrNotFound: 'notFound',
  modelNotFound: 'notFound',
  conflictTaskUUID: 'conflict',
};

const RETRYABLE: ReadonlySet<ProviderErrorCategory> = new Set([
  'rateLimit',
  'timeout',
  'provider',
  'serverError',
  'connection',
]);

function categoryFromStatus(status: number | undefined): ProviderErrorCategory {
  if (status === undefined) return 'unknown';
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'quota';
  if (status === 429) return 'rateLimit';
  if (status === 504) return 'timeout';
  if (status >= 500) return 'serverError';
  if (status === 404) return 'notFound';
  if (status >= 400) return 'validation';
  return 'unknown';
}

export function categorise(code: string, status: number | undefined): ProviderErrorCategory {
  const known = BY_CODE[code];
  if (known) return known;
  if (/^(invalid|missing|unsupported|unknown|incompatible|arrayToo|valueToo)/.test(code)) return 'validation';
  return categoryFromStatus(status);
}

export function toProviderError(e: ProviderErrorObject, httpStatus?: number): ProviderError {
  const category = categorise(e.code, httpStatus);
  return new ProviderError({
    providerCode: e.code,
    category,
    message: e.message ?? 'no message',
    retryable: RETRYABLE.has(category),
    httpStatus,
    parameter: e.parameter,
  });
}

/** An HTTP answer with no usable error body (e.g. a 502 from a proxy). */
export function httpStatusError(status: number, text: string): ProviderError {
  const category = categoryFromStatus(status);
  return new ProviderError({
    providerCode: `http${status}`,
    category,
    message: text.slice(0, 300) || `HTTP ${status}`,
    retryable: RETRYABLE.has(category) || category === 'unknown',
    httpStatus: status,
  });
}

export function connectionError(cause: unknown): ProviderError {
  return new ProviderError({
    providerCode: 'connectionError',
    category: 'connection',
    message: cause instanceof Error ? cause.message : String(cause),
    retryable: true,
    cause,
  });
}
