// Which field of a result item carries its image. The contract allows exactly one of imageURL,
// imageBase64Data, imageDataURI; an empty string carries nothing and does not count.
import type { ResultItem } from '../contract/index.js';
import { outputAmbiguous, outputMissing } from './output-errors.js';

export const IMAGE_SOURCE_FIELDS = ['imageURL', 'imageBase64Data', 'imageDataURI'] as const;
export type ImageSourceField = (typeof IMAGE_SOURCE_FIELDS)[number];

export function imageSources(item: ResultItem): ImageSourceField[] {
  return IMAGE_SOURCE_FIELDS.filter((f) => {
    const v = item[f];
    return typeof v === 'string' && v.length > 0;
  });
}

/** Throws OUTPUT_AMBIGUOUS (final) when the item names more than one source. */
export function refuseAmbiguous(item: ResultItem): void {
  const sources = imageSources(item);
  // Which one holds the billed image is unknowable; storing either could keep the wrong bytes.
  if (sources.length > 1) {
    throw outputAmbiguous(
      `result carries more than one image source (${sources.join(', ')}); exactly one is allowed`,
    );
  }
}

/** The one source field; throws OUTPUT_MISSING for none and OUTPUT_AMBIGUOUS for several. */
export function imageSource(item: ResultItem): ImageSourceField {
  refuseAmbiguous(item);
  const [source] = imageSources(item);
  if (!source) throw outputMissing('result has none of imageURL, imageBase64Data, imageDataURI');
  return source;
}
