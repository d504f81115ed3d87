// Per-model rules, in one table: adding a second model is adding one entry here.
// Sizes and limits for bfl:3@1 come from the provider's model page (see shared contract §2).

export interface ImageSize {
  readonly label: string;
  readonly width: number;
  readonly height: number;
}

export interface ModelRules {
  readonly id: string;
  readonly name: string;
  /** The only width×height pairs the model accepts; `undefined` means any size within the generic rule. */
  readonly sizes: readonly ImageSize[];
  readonly maxReferenceImages: number;
  readonly maxNumberResults: number;
  /** Keys allowed under `providerSettings.<provider>`. */
  readonly providerKey: string;
  /** Estimated price per output image in USD, used for budgets before the provider reports a cost. */
  readonly estimatedCostPerImage: number;
}

const FLUX_KONTEXT_PRO: ModelRules = {
  id: 'bfl:3@1',
  name: 'FLUX.1 Kontext [pro]',
  sizes: [
    { label: '21:9', width: 1568, height: 672 },
    { label: '16:9', width: 1392, height: 752 },
    { label: '4:3', width: 1184, height: 880 },
    { label: '3:2', width: 1248, height: 832 },
    { label: '1:1', width: 1024, height: 1024 },
    { label: '2:3', width: 832, height: 1248 },
    { label: '3:4', width: 880, height: 1184 },
    { label: '9:16', width: 752, height: 1392 },
    { label: '9:21', width: 672, height: 1568 },
  ],
  maxReferenceImages: 2,
  maxNumberResults: 20,
  providerKey: 'bfl',
  estimatedCostPerImage: 0.04,
};

export const MODELS: Readonly<Record<string, ModelRules>> = Object.freeze({
  [FLUX_KONTEXT_PRO.id]: FLUX_KONTEXT_PRO,
});

export const SUPPORTED_MODEL_IDS = Object.keys(MODELS) as [string, ...string[]];

export function modelRules(id: string): ModelRules | undefined {
  return MODELS[id];
}

export function isAllowedSize(rules: ModelRules, width: number, height: number): boolean {
  return rules.sizes.some((s) => s.width === width && s.height === height);
}

export function describeSizes(rules: ModelRules): string {
  return rules.sizes.map((s) => `${s.width}×${s.height}`).join(', ');
}
