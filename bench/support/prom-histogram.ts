// A server's own latency histogram, read from its /metrics (Prometheus text): cumulative bucket counts
// scraped before and after a run, their difference, and quantiles from it as histogram_quantile()
// computes them (linear within the bucket the rank falls in).

/** Cumulative count by upper bound (`le`, +Inf as Infinity), sorted by bound. */
export type Buckets = [le: number, count: number][];

export async function scrapeHistogram(metricsUrl: string, name: string): Promise<Buckets> {
  const res = await fetch(metricsUrl);
  if (!res.ok) throw new Error(`${metricsUrl}: ${res.status}`);
  const text = await res.text();
  const out: Buckets = [];
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    out.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
  }
  if (out.length === 0) throw new Error(`${metricsUrl}: no ${name} histogram`);
  return out.sort((a, b) => a[0] - b[0]);
}

/** after − before, bucket by bucket (the observations of one run). */
export function bucketDiff(before: Buckets, after: Buckets): Buckets {
  const prior = new Map(before);
  return after.map(([le, n]) => [le, n - (prior.get(le) ?? 0)]);
}

/** The q-quantile (0..1) in the histogram's unit; NaN without observations. */
export function bucketQuantile(b: Buckets, q: number): number {
  const total = b.at(-1)?.[1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of b) {
    if (count >= rank) {
      // In the +Inf bucket the best answer is the last finite bound, as histogram_quantile gives.
      if (!Number.isFinite(le)) return prevLe;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
