// Tells a provider that is overloaded from one that refused a request now and then. A 503 on submit is
// "capacity temporarily constrained": a few of them are retried per task (BullMQ's capped backoff, one
// attempt each); a burst of them (OVERLOAD_THRESHOLD within OVERLOAD_WINDOW_MS in this worker) slows
// the whole queue down instead, which costs no attempts. A 429 always slows the queue: it is about our
// rate. Pausing the whole queue for every sporadic 503 also stopped stores and polls, and stretched
// the tail of a batch (BENCHMARKS.md, tail).

/** 503s within OVERLOAD_WINDOW_MS, in one worker, that count as an overloaded provider. */
export const OVERLOAD_THRESHOLD = 5;
export const OVERLOAD_WINDOW_MS = 2000;

export class OverloadDetector {
  private readonly seen: number[] = [];
  constructor(
    private readonly threshold = OVERLOAD_THRESHOLD,
    private readonly windowMs = OVERLOAD_WINDOW_MS,
  ) {}

  /** Note one 503; true when this one makes a burst (slow the queue down), false for a sporadic one. */
  record(now = Date.now()): boolean {
    this.seen.push(now);
    while (this.seen.length > 0 && this.seen[0]! <= now - this.windowMs) this.seen.shift();
    return this.seen.length >= this.threshold;
  }
}
