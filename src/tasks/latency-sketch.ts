// The provider's result latency as a fixed-bucket, log-scale histogram: mergeable (bucket-wise sums),
// updated atomically in Redis by HINCRBY, aged by multiplying every bucket by a decay factor.
// Pure: bucket maths and quantiles here; the Redis side is delivery-stats.ts and lua/delivery-scripts.ts.

/** Lower edge of bucket 0; anything faster lands in it. */
export const SKETCH_BASE_MS = 100;
/** Bucket width: each bucket's upper edge is 2^(1/4) ≈ 1.19× its lower edge (≤ 19% quantile error). */
export const SKETCH_RATIO = 2 ** 0.25;
/** 64 buckets reach 100 ms × 2^16 ≈ 109 min; slower results land in the last one. */
export const SKETCH_BUCKETS = 64;
/** One observation's weight; integers survive decay by multiplication with enough resolution. */
export const SKETCH_WEIGHT = 1000;
/** Every period, every bucket (and the webhook-health counters) is multiplied by DECAY_FACTOR. */
export const DECAY_PERIOD_MS = 60_000;
export const DECAY_FACTOR = 0.9;
/** The prior (this many observations around LATENCY_PRIOR_MS) is used until as many real ones are in. */
export const PRIOR_OBSERVATIONS = 5;

export type Histogram = ReadonlyMap<number, number>;

export function bucketOf(latencyMs: number): number {
  if (!(latencyMs > SKETCH_BASE_MS)) return 0;
  const b = Math.floor(Math.log(latencyMs / SKETCH_BASE_MS) / Math.log(SKETCH_RATIO));
  return Math.min(SKETCH_BUCKETS - 1, b);
}

/** The upper edge of a bucket: a quantile read from it is conservative (never early). */
export function bucketUpperMs(bucket: number): number {
  return SKETCH_BASE_MS * SKETCH_RATIO ** (bucket + 1);
}

/** Bucket-wise sum: sketches from several sources (or a prior) combine exactly. */
export function mergeHistograms(...hs: Histogram[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const h of hs) for (const [b, w] of h) out.set(b, (out.get(b) ?? 0) + w);
  return out;
}

/**
 * The prior: PRIOR_OBSERVATIONS spread over the buckets around `medianMs` (half at it, a quarter one
 * bucket either side), so an empty sketch still gives a p95 a little above the prior median.
 */
export function priorHistogram(medianMs: number): Map<number, number> {
  const b = bucketOf(medianMs);
  const w = PRIOR_OBSERVATIONS * SKETCH_WEIGHT;
  return mergeHistograms(
    new Map([[b, w / 2]]),
    new Map([[Math.max(0, b - 1), w / 4]]),
    new Map([[Math.min(SKETCH_BUCKETS - 1, b + 1), w / 4]]),
  );
}

/** The q-quantile (0 < q ≤ 1) in ms, as the upper edge of the bucket that reaches it; null when empty. */
export function quantileMs(h: Histogram, q: number): number | null {
  let total = 0;
  for (const w of h.values()) total += w;
  if (total <= 0) return null;
  const target = q * total;
  let seen = 0;
  for (const b of [...h.keys()].sort((x, y) => x - y)) {
    seen += h.get(b) ?? 0;
    if (seen >= target) return bucketUpperMs(b);
  }
  return bucketUpperMs(SKETCH_BUCKETS - 1);
}

/** Parse the Redis hash (`b<index>` → weight; fields starting with `_` are bookkeeping). */
export function histogramFromHash(h: Record<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith('b')) continue;
    const b = Number(k.slice(1));
    const w = Number(v);
    if (Number.isInteger(b) && b >= 0 && b < SKETCH_BUCKETS && w > 0) out.set(b, w);
  }
  return out;
}

/**
 * The class a task's latency is learned in: model, size (megapixels to one decimal) and result count,
 * since a task's results arrive one by one.
 */
export function latencyClassOf(task: {
  model?: string | undefined;
  width: number;
  height: number;
  numberResults?: number | undefined;
}): string {
  const mp = Math.round((task.width * task.height) / 100_000) / 10;
  return `${task.model ?? 'bfl:3@1'}|${mp}mp|n${task.numberResults ?? 1}`;
}
