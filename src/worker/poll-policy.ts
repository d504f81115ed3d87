// When to ask getResponse, from what the latency sketch has learned. Pure: the planner
// (poll-planner.ts) reads the sketch and the webhook health and applies these rules.
// Invariant: no poll is planned earlier than POLL_MIN_DELAY_MS after submit nor later than
// FIRST_POLL_AFTER_MS (the cap wins), and later polls never exceed MAX_POLL_INTERVAL_MS apart.
import type { Config } from '../config/load-config.js';
import {
  type Histogram,
  mergeHistograms,
  PRIOR_OBSERVATIONS,
  priorHistogram,
  quantileMs,
  SKETCH_WEIGHT,
} from '../tasks/latency-sketch.js';

/** Each empty poll waits this much longer than the one before. */
export const POLL_BACKOFF_FACTOR = 1.5;
/** A transient getResponse failure is retried after POLL_RETRY_MS × a factor in [0.5, 1.5). */
export const RETRY_JITTER = 0.5;

export type DeliveryMode = 'webhook-first' | 'poll-first';

export interface PollParams {
  minDelayMs: number;
  capMs: number;
  maxIntervalMs: number;
  overdueFactor: number;
  retryMs: number;
  priorMs: number;
}

export function pollParamsFromConfig(cfg: Config): PollParams {
  return {
    minDelayMs: cfg.POLL_MIN_DELAY_MS,
    capMs: cfg.FIRST_POLL_AFTER_MS,
    maxIntervalMs: cfg.MAX_POLL_INTERVAL_MS,
    overdueFactor: cfg.POLL_OVERDUE_FACTOR,
    retryMs: cfg.POLL_RETRY_MS,
    priorMs: cfg.LATENCY_PRIOR_MS,
  };
}

/** Whether the sketch holds enough observations to stand without the prior. */
export function hasLearned(h: Histogram): boolean {
  let learned = 0;
  for (const w of h.values()) learned += w;
  return learned >= PRIOR_OBSERVATIONS * SKETCH_WEIGHT;
}

/**
 * The sketch, with the prior mixed in while it holds fewer than PRIOR_OBSERVATIONS (the prior scales
 * with the task's result count: results come one by one).
 */
export function withPrior(h: Histogram, p: PollParams, results: number): Histogram {
  if (hasLearned(h)) return h;
  return mergeHistograms(h, priorHistogram(p.priorMs * Math.max(1, results)));
}

function clampFirst(ms: number, p: PollParams): number {
  return Math.min(p.capMs, Math.max(p.minDelayMs, Math.round(ms)));
}

/**
 * The overdue rule: a task's results are overdue `overdueAfterMs` after submit, when its first poll
 * is due. Webhook-first: overdueFactor × p95 of its class. Poll-first (webhooks degraded): the median,
 * so polling, not the webhook, usually delivers.
 */
export function overdueAfterMs(h: Histogram, mode: DeliveryMode, p: PollParams, results = 1): number {
  const merged = withPrior(h, p, results);
  const q =
    mode === 'poll-first' ? quantileMs(merged, 0.5) : p.overdueFactor * (quantileMs(merged, 0.95) ?? 0);
  return clampFirst(q ?? p.capMs, p);
}

/**
 * Delay after the `polls`-th poll found the results still missing: from the class median (at least
 * POLL_RETRY_MS), growing by POLL_BACKOFF_FACTOR per poll, up to MAX_POLL_INTERVAL_MS.
 */
export function nextPollDelay(h: Histogram, polls: number, p: PollParams, results = 1): number {
  const base = Math.max(p.retryMs, quantileMs(withPrior(h, p, results), 0.5) ?? p.retryMs);
  const grown = base * POLL_BACKOFF_FACTOR ** Math.max(0, Math.min(polls - 1, 40));
  return Math.round(Math.min(p.maxIntervalMs, grown));
}

/** Delay before retrying a getResponse that failed transiently: seconds, jittered, never doubled. */
export function retryDelay(p: PollParams, random: () => number = Math.random): number {
  return Math.round(p.retryMs * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
}
