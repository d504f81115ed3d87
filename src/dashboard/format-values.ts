// How numbers read on the dashboard: money in USD, durations, UTC clock times. Pure functions.

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;
/** Per-task costs are fractions of a cent apart, so show four decimals. */
const COST_DECIMALS = 4;

export function formatUsd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  return `$${amount.toFixed(COST_DECIMALS)}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < MS_PER_SECOND) return `${Math.round(ms)} ms`;
  const s = ms / MS_PER_SECOND;
  if (s < SECONDS_PER_MINUTE) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / SECONDS_PER_MINUTE);
  return `${m} min ${Math.round(s - m * SECONDS_PER_MINUTE)} s`;
}

/** `2025-01-31 12:34:56 UTC`, or — when unknown. */
export function formatTime(at: number | null | undefined): string {
  if (!at) return '—';
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function isoTime(at: number | null | undefined): string {
  return at ? new Date(at).toISOString() : '';
}

/** Elapsed time between two moments, or since `from` until `now` when `to` is not yet known. */
export function between(from: number | null, to: number | null, now = Date.now()): number | null {
  if (!from) return null;
  return (to ?? now) - from;
}
