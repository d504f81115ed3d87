// Small statistics for benchmark figures: medians of repetitions, percentiles, and paired ratios
// (subject ÷ baseline within one A/B pair), which cancel most of a noisy machine's drift.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0..100), nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** subject[i] ÷ baseline[i] for each pair. */
export function pairedRatios(subject: readonly number[], baseline: readonly number[]): number[] {
  return subject.map((s, i) => s / baseline[i]!);
}

/** Round to `digits` significant-looking decimals for reports. */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
