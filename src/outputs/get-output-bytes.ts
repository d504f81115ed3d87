// A result item's image bytes, whichever way the provider sent them (URL, base64, data URI), proven to be
// an image. The URL comes from an unauthenticated webhook body, so fetching it goes through the SSRF guard.
import type { Dispatcher } from 'undici';
import type { OutputFormat, ResultItem } from '../contract/index.js';
import { decodeBase64Strict, decodeDataUri } from './decode-inline.js';
import { detectImage } from './detect-image.js';
import type { FetchPolicy } from './fetch-policy.js';
import { fetchUrl } from './fetch-url.js';
import { outputMissing } from './output-errors.js';

export interface OutputBytes {
  bytes: Buffer;
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
}

/** Throws OutputFetchError: OUTPUT_MISSING, OUTPUT_URL_FORBIDDEN, OUTPUT_TOO_LARGE, OUTPUT_NOT_IMAGE, OUTPUT_FETCH_FAILED. */
export async function getOutputBytes(
  item: ResultItem,
  policy: FetchPolicy,
  dispatcher?: Dispatcher,
): Promise<OutputBytes> {
  const bytes = await rawBytes(item, policy, dispatcher);
  const image = await detectImage(bytes);
  return { bytes, ...image };
}

async function rawBytes(
  item: ResultItem,
  policy: FetchPolicy,
  dispatcher: Dispatcher | undefined,
): Promise<Buffer> {
  const sources = (['imageURL', 'imageBase64Data', 'imageDataURI'] as const).filter((f) => present(item[f]));
  if (sources.length !== 1) {
    throw outputMissing(
      sources.length === 0
        ? 'result has none of imageURL, imageBase64Data, imageDataURI'
        : `result has more than one image field (${sources.join(', ')})`,
    );
  }
  switch (sources[0]) {
    case 'imageURL':
      return fetchUrl(item.imageURL ?? '', policy, dispatcher ? { dispatcher } : {});
    case 'imageBase64Data':
      return decodeBase64Strict(item.imageBase64Data ?? '', policy.maxBytes);
    default:
      return decodeDataUri(item.imageDataURI ?? '', policy.maxBytes);
  }
}

/** An empty string carries no image, so it does not count as the one source. */
function present(v: string | undefined): boolean {
  return typeof v === 'string' && v.length > 0;
}
