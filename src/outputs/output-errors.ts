// The stable codes of OutputFetchError and one constructor per code, so each carries the right `retryable`.
// Only a fetch that might succeed later (timeout, 5xx, connection, DNS) is retryable.
import { OutputFetchError } from '../errors.js';

export const OUTPUT_ERROR_CODES = {
  missing: 'OUTPUT_MISSING',
  forbidden: 'OUTPUT_URL_FORBIDDEN',
  tooLarge: 'OUTPUT_TOO_LARGE',
  notImage: 'OUTPUT_NOT_IMAGE',
  fetchFailed: 'OUTPUT_FETCH_FAILED',
} as const;

export type OutputErrorCode = (typeof OUTPUT_ERROR_CODES)[keyof typeof OUTPUT_ERROR_CODES];

export const outputMissing = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.missing, message, false);

export const urlForbidden = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.forbidden, message, false);

export const tooLarge = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.tooLarge, message, false);

export const notImage = (message: string, cause?: unknown) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.notImage, message, false, { cause });

export const fetchFailed = (message: string, retryable: boolean, cause?: unknown) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.fetchFailed, message, retryable, { cause });
