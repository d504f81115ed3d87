// Applies the poll policy with live data: the latency sketch of the task's class (read at most once
// per SKETCH_CACHE_MS per process), the webhook-health mode, and the queue-wide poll budget.
import type { Config } from '../config/load-config.js';
import type { Logger } from '../log.js';
import type { DeliveryStats } from '../tasks/delivery-stats.js';
import type { QueuedTask } from '../tasks/job-data.js';
import { type Histogram, latencyClassOf } from '../tasks/latency-sketch.js';
import {
  hasLearned,
  nextPollDelay,
  overdueAfterMs,
  type PollParams,
  pollParamsFromConfig,
  retryDelay,
} from './poll-policy.js';
import { WebhookHealth } from './webhook-health.js';

/** How stale a process's copy of a latency sketch may be. */
export const SKETCH_CACHE_MS = 2_000;
/** A task denied a poll token asks again after the wait plus up to this much, so retries spread. */
const TOKEN_RETRY_SPREAD_MS = 1_000;

export class PollPlanner {
  readonly params: PollParams;
  readonly health: WebhookHealth;
  private readonly sketches = new Map<string, { h: Histogram; at: number }>();

  constructor(
    private readonly delivery: DeliveryStats,
    private readonly cfg: Config,
    logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.params = pollParamsFromConfig(cfg);
    this.health = new WebhookHealth(delivery, logger, clock);
  }

  /**
   * How long after its submit a task's first poll is due (its latency-class tag is sent apart, by
   * tagLatencyClass, after the record exists). While its class has learned too little (the prior
   * decides), this is only a first check after POLL_MIN_DELAY_MS, where `recheckDue` plans again from what was learned meanwhile: a batch submitted at once does not keep
   * the prior's guess.
   */
  async firstPollDelay(task: QueuedTask): Promise<number> {
    const [h, mode] = await Promise.all([this.sketch(latencyClassOf(task)), this.health.mode()]);
    const due = overdueAfterMs(h, mode, this.params, task.numberResults ?? 1);
    return hasLearned(h) ? due : Math.min(due, this.params.minDelayMs);
  }

  /** Tag the task's record with its latency class (webhooks feed that class's sketch). */
  tagLatencyClass(task: QueuedTask): Promise<void> {
    return this.delivery.tagLatencyClass(task.taskUUID, latencyClassOf(task));
  }

  /**
   * Before a task's first poll: its due time by the sketch as it is now. When that is later than
   * `now`, the due time moves there (record and overdue index) and the caller parks until the
   * returned time: the due time, or while the class is still unlearned, the next check.
   */
  async recheckDue(task: QueuedTask, submittedAt: number, now: number): Promise<number> {
    const [h, mode] = await Promise.all([this.sketch(latencyClassOf(task)), this.health.mode()]);
    const due = submittedAt + overdueAfterMs(h, mode, this.params, task.numberResults ?? 1);
    if (due <= now) return due;
    await this.delivery.moveDue(task.taskUUID, due);
    return hasLearned(h) ? due : Math.min(due, now + this.params.minDelayMs);
  }

  /** Delay after the `polls`-th poll found results still missing. */
  async afterEmptyPoll(task: QueuedTask, polls: number): Promise<number> {
    const h = await this.sketch(latencyClassOf(task));
    return nextPollDelay(h, polls, this.params, task.numberResults ?? 1);
  }

  retryDelay(): number {
    return retryDelay(this.params);
  }

  /** 0 when this process may call getResponse now, else how long to park before asking again. */
  async pollPermit(): Promise<number> {
    const wait = await this.delivery.takePollToken(this.cfg.POLL_RATE_MAX, this.clock());
    return wait > 0 ? wait + Math.floor(Math.random() * TOKEN_RETRY_SPREAD_MS) : 0;
  }

  private async sketch(cls: string): Promise<Histogram> {
    const now = this.clock();
    const hit = this.sketches.get(cls);
    if (hit && now - hit.at < SKETCH_CACHE_MS) return hit.h;
    const h = await this.delivery.histogram(cls);
    // An unlearned sketch is read again next time: the first observations matter most.
    if (hasLearned(h)) this.sketches.set(cls, { h, at: now });
    return h;
  }
}
