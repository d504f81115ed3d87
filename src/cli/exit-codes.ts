// The CLI's exit codes, one meaning each (README "Exit codes"). Waiting commands map their outcome here.
import type { WatchOutcome } from './watch-batch.js';

export const EXIT = {
  /** Done: every task completed (or, without --wait, the batch was enqueued as asked). */
  OK: 0,
  /** Some tasks failed, were cancelled or ended partial; also any unexpected error (message on stderr). */
  FAILURES: 1,
  /** The input was refused: invalid lines, or one taskUUID on two lines. Nothing was enqueued. */
  INVALID_INPUT: 2,
  /** No such batch (never enqueued, or Redis lost it). */
  UNKNOWN_BATCH: 3,
  /** Gave up waiting: --timeout passed, or Redis stayed unreachable until it did. The batch may go on. */
  GAVE_UP: 4,
  /** Enqueued, but some lines were skipped: their taskUUID belongs to another batch (see --allow-existing). */
  TASKS_EXIST: 5,
  /** A configuration variable is missing or wrong. */
  CONFIG: 78,
} as const;

export function exitCodeOf(outcome: WatchOutcome): number {
  if (outcome.kind === 'unknown') return EXIT.UNKNOWN_BATCH;
  if (outcome.kind === 'gave-up') return EXIT.GAVE_UP;
  const s = outcome.status;
  return s.state === 'completed' && s.completed === s.total ? EXIT.OK : EXIT.FAILURES;
}
