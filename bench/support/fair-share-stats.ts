// The fairness benchmark's arithmetic over task timelines: Jain's index of admissions per tenant in
// windows, the cap's utilisation in a window, and submissions per tenant in an interval.

/** Jain's fairness index of non-negative amounts: 1 when all are equal, 1/n when one has everything. */
export function jainIndex(xs: readonly number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const squares = xs.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? Number.NaN : (sum * sum) / (xs.length * squares);
}

export interface Submitted {
  tenant: string;
  submittedAt: number;
}

/** Jain's index of submissions per tenant in each whole window of `windowMs` inside [from, to). */
export function windowedJain(
  tasks: readonly Submitted[],
  tenants: readonly string[],
  from: number,
  to: number,
  windowMs: number,
): number[] {
  const out: number[] = [];
  for (let start = from; start + windowMs <= to; start += windowMs) {
    const counts = new Map(tenants.map((t) => [t, 0]));
    for (const t of tasks) {
      if (t.submittedAt >= start && t.submittedAt < start + windowMs)
        counts.set(t.tenant, (counts.get(t.tenant) ?? 0) + 1);
    }
    out.push(jainIndex([...counts.values()]));
  }
  return out;
}

/** Mean provider-side concurrency in [from, to) ÷ cap; a task not ended yet counts as open. */
export function utilisation(
  spans: readonly { submittedAt: number; finishedAt: number }[],
  from: number,
  to: number,
  cap: number,
): number {
  let busy = 0;
  for (const s of spans) {
    if (!Number.isFinite(s.submittedAt)) continue;
    const end = Number.isFinite(s.finishedAt) ? s.finishedAt : to;
    busy += Math.max(0, Math.min(end, to) - Math.max(s.submittedAt, from));
  }
  return busy / (cap * (to - from));
}

export function countIn(tasks: readonly Submitted[], tenant: string, from: number, to: number): number {
  return tasks.filter((t) => t.tenant === tenant && t.submittedAt >= from && t.submittedAt < to).length;
}
