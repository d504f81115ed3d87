// The provider's error object and envelopes, in the shape Runware documents (shared contract §1.3–1.4).
// Responses go out through stringifyLossless so a seed or bound above 2^53 keeps every digit.
import { stringifyLossless, WIDE_INTEGER_KEYS } from '../contract/index.js';

const DOCS_BASE = 'https://runware.ai/docs/image-inference/api-reference';

export interface ProviderErrorBody {
  code: string;
  message: string;
  parameter?: string | string[];
  taskUUID?: string;
  taskType?: string;
  documentation?: string;
  type?: string;
  /** Decimal strings for bounds wider than 2^53; written as bare JSON integers. */
  min?: number | string;
  max?: number | string;
  status?: 'error';
  context?: Record<string, unknown>;
}

export function providerError(
  code: string,
  message: string,
  extra: Omit<ProviderErrorBody, 'code' | 'message'> = {},
): ProviderErrorBody {
  const anchor = Array.isArray(extra.parameter) ? extra.parameter[0] : extra.parameter;
  return {
    code,
    message,
    ...extra,
    documentation:
      extra.documentation ?? (anchor ? `${DOCS_BASE}#request-${anchor.toLowerCase()}` : DOCS_BASE),
  };
}

/** Keys whose decimal-string values are written as JSON integers: seeds, and range bounds. */
const LOSSLESS_KEYS = [...WIDE_INTEGER_KEYS, 'min', 'max'];

export function writeJson(value: unknown): string {
  return stringifyLossless(value, LOSSLESS_KEYS);
}

/** A whole-request failure: nothing in the request was accepted. */
export function errorEnvelope(...errors: ProviderErrorBody[]): { data: []; errors: ProviderErrorBody[] } {
  return { data: [], errors };
}
