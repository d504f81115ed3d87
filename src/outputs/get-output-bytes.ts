// A result item's image bytes, whichever way the provider sent them (URL, base64, data URI), proven to be
// a whole image of the task's size. The URL comes from an unauthenticated webhook body, so fetching it
// goes through the SSRF guard. An item naming more than one source is refused (OUTPUT_AMBIGUOUS).
import type { Dispatcher } from 'undici';
import type { OutputFormat, ResultItem } from '../contract/index.js';
import { decodeBase64Strict, decodeDataUri } from './decode-inline.js';
import { detectImage } from './detect-image.js';
import type { FetchPolicy } from './fetch-policy.js';
import { fetchUrl } from './fetch-url.js';
import type { ImageSize } from './image-size.js';
import { imageSource } from './image-source.js';

export interface OutputBytes {
  bytes: Buffer;
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
}

/**
 * Throws OutputFetchError: OUTPUT_MISSING, OUTPUT_AMBIGUOUS, OUTPUT_URL_FORBIDDEN, OUTPUT_TOO_LARGE,
 * OUTPUT_NOT_IMAGE, OUTPUT_CORRUPT (retryable; also when the size is not `expected`), OUTPUT_FETCH_FAILED.
 */
export async function getOutputBytes(
  item: ResultItem,
  policy: FetchPolicy,
  dispatcher?: Dispatcher,
  expected?: ImageSize,
): Promise<OutputBytes> {
  const bytes = await rawBytes(item, policy, dispatcher);
  const image = detectImage(bytes, expected);
  return { bytes, ...image };
}

async function rawBytes(
  item: ResultItem,
  policy: FetchPolicy,
  dispatcher: Dispatcher | undefined,
): Promise<Buffer> {
  switch (imageSource(item)) {
    case 'imageURL':
      return fetchUrl(item.imageURL ?? '', policy, dispatcher ? { dispatcher } : {});
    case 'imageBase64Data':
      return decodeBase64Strict(item.imageBase64Data ?? '', policy.maxBytes);
    default:
      return decodeDataUri(item.imageDataURI ?? '', policy.maxBytes);
  }
}
