// The stable codes of OutputFetchError and one constructor per code, so each carries the right `retryable`.
// Retryable: a fetch that might succeed later (timeout, 5xx, connection, DNS) and bytes that arrived
// incomplete or damaged (OUTPUT_CORRUPT). Never retryable: what a re-fetch cannot change.
import { OutputCorruptError, OutputFetchError } from '../errors.js';

export const OUTPUT_ERROR_CODES = {
  missing: 'OUTPUT_MISSING',
  /** An item naming more than one source (e.g. imageURL and imageBase64Data): a provider contract breach. */
  ambiguous: 'OUTPUT_AMBIGUOUS',
  forbidden: 'OUTPUT_URL_FORBIDDEN',
  tooLarge: 'OUTPUT_TOO_LARGE',
  notImage: 'OUTPUT_NOT_IMAGE',
  corrupt: 'OUTPUT_CORRUPT',
  fetchFailed: 'OUTPUT_FETCH_FAILED',
} as const;

export type OutputErrorCode = (typeof OUTPUT_ERROR_CODES)[keyof typeof OUTPUT_ERROR_CODES];

export const outputMissing = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.missing, message, false);

export const outputAmbiguous = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.ambiguous, message, false);

export const urlForbidden = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.forbidden, message, false);

export const tooLarge = (message: string) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.tooLarge, message, false);

export const notImage = (message: string, cause?: unknown) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.notImage, message, false, { cause });

export const outputCorrupt = (message: string, cause?: unknown) =>
  new OutputCorruptError(message, cause === undefined ? undefined : { cause });

export const fetchFailed = (message: string, retryable: boolean, cause?: unknown) =>
  new OutputFetchError(OUTPUT_ERROR_CODES.fetchFailed, message, retryable, { cause });
