// USD per output image by model: the built-in table (src/contract/models.ts) with the operator's
// MODEL_PRICES_USD over it. The provider's published prices cannot be fetched from here (contract §11).
import { MODELS } from '../contract/index.js';

export type PriceTable = Readonly<Record<string, number>>;

export function priceTable(overrides: Readonly<Record<string, number>> = {}): PriceTable {
  const base = Object.fromEntries(Object.values(MODELS).map((m) => [m.id, m.estimatedCostPerImage]));
  return Object.freeze({ ...base, ...overrides });
}
