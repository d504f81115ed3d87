// The series behind the charts, computed from recorded task state only: when each task was submitted
// and ended, what it cost, and when and how (webhook or poll) each result arrived. Pure: the same input
// gives the same charts, on first render and on every live update.

/** One task as the charts see it. */
export interface TaskSample {
  state: string;
  submittedAt: number | null;
  finishedAt: number | null;
  cost: number;
  /** Per result: when it arrived and how. */
  arrivals: { at: number; via: 'webhook' | 'poll' }[];
}

export interface ChartData {
  /** Width of one time bucket: a minute, or finer for a short batch so it still draws a shape. */
  bucketMs: number;
  from: number;
  to: number;
  /** Bucket starts, in seconds since the epoch (uPlot's x unit). */
  t: number[];
  completed: number[];
  failed: number[];
  /** Tasks at the provider (submitted, not ended) at the end of each bucket. */
  inFlight: number[];
  /** Cumulative spend at the end of each bucket. */
  spend: number[];
  budgetUsd: number | null;
  /** Provider latency (submitted → result arrived) histogram: upper bin edges in ms, last bin open. */
  latencyEdgesMs: number[];
  latencyCounts: number[];
  webhook: number;
  poll: number;
  totals: { tasks: number; completed: number; failed: number; results: number; spend: number };
}

export const MINUTE_MS = 60_000;
/** Bucket widths tried in order; the first giving at most MAX_BUCKETS buckets is used. */
const BUCKET_CHOICES_MS = [
  1_000,
  2_000,
  5_000,
  10_000,
  15_000,
  30_000,
  MINUTE_MS,
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  60 * MINUTE_MS,
];
export const MAX_BUCKETS = 120;
export const LATENCY_EDGES_MS = [250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 1_800_000];
const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** Spans at least this long are bucketed per minute or coarser; shorter ones finer, to show a shape. */
export const FINE_BUCKETS_BELOW_MS = 10 * MINUTE_MS;

export function pickBucketMs(spanMs: number): number {
  const floor = spanMs >= FINE_BUCKETS_BELOW_MS ? MINUTE_MS : 0;
  return BUCKET_CHOICES_MS.find((b) => b >= floor && spanMs / b <= MAX_BUCKETS) ?? BUCKET_CHOICES_MS.at(-1)!;
}

export function buildChartData(
  samples: readonly TaskSample[],
  budgetUsd: number | null,
  now = Date.now(),
  arrivalsOverride?: { webhook: number; poll: number },
): ChartData {
  const times = samples.flatMap((s) => [s.submittedAt, s.finishedAt]).filter((x): x is number => !!x);
  const from = times.length ? Math.min(...times) : now;
  const last = times.length ? Math.max(...times) : now;
  const open = samples.some((s) => s.submittedAt && !s.finishedAt);
  const to = open ? Math.max(now, last) : last;
  const bucketMs = pickBucketMs(to - from);
  const start = from - (from % bucketMs);
  const n = Math.max(1, Math.floor((to - start) / bucketMs) + 1);
  const t = Array.from({ length: n }, (_, i) => (start + i * bucketMs) / 1000);
  const completed = new Array<number>(n).fill(0);
  const failed = new Array<number>(n).fill(0);
  const spendDelta = new Array<number>(n).fill(0);
  const bucketOf = (at: number) => Math.min(n - 1, Math.max(0, Math.floor((at - start) / bucketMs)));
  const latencyCounts = new Array<number>(LATENCY_EDGES_MS.length + 1).fill(0);
  let webhook = 0;
  let poll = 0;
  for (const s of samples) {
    if (s.finishedAt && ENDED.has(s.state)) {
      const b = bucketOf(s.finishedAt);
      if (s.state === 'completed') completed[b]!++;
      else if (s.state !== 'cancelled') failed[b]!++;
      spendDelta[b]! += s.cost;
    } else if (s.finishedAt && s.state !== 'completed') {
      // A terminal state this version does not know (e.g. partial): counted with what it spent.
      spendDelta[bucketOf(s.finishedAt)]! += s.cost;
    }
    for (const a of s.arrivals) {
      if (a.via === 'poll') poll++;
      else webhook++;
      if (s.submittedAt) {
        const ms = a.at - s.submittedAt;
        const bin = LATENCY_EDGES_MS.findIndex((edge) => ms <= edge);
        latencyCounts[bin === -1 ? LATENCY_EDGES_MS.length : bin]!++;
      }
    }
  }
  const inFlight = t.map((sec) => {
    const end = sec * 1000 + bucketMs;
    return samples.filter(
      (s) => s.submittedAt && s.submittedAt < end && (!s.finishedAt || s.finishedAt >= end),
    ).length;
  });
  let sum = 0;
  const spend = spendDelta.map((d) => {
    sum += d;
    return Math.round(sum * 1e6) / 1e6;
  });
  return {
    bucketMs,
    from,
    to,
    t,
    completed,
    failed,
    inFlight,
    spend,
    budgetUsd,
    latencyEdgesMs: LATENCY_EDGES_MS,
    latencyCounts,
    webhook: arrivalsOverride?.webhook ?? webhook,
    poll: arrivalsOverride?.poll ?? poll,
    totals: {
      tasks: samples.length,
      completed: completed.reduce((a, b) => a + b, 0),
      failed: failed.reduce((a, b) => a + b, 0),
      results: samples.reduce((a, s) => a + s.arrivals.length, 0),
      spend: sum,
    },
  };
}
