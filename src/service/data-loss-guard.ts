// Watches for Redis losing its data (restarted empty, flushed, failed over to an empty replica): every
// EPOCH_CHECK_MS, and at once when BullMQ reports a missing job key, it compares the dataset's epoch
// with the one seen at start. On a loss it calls `onLost` (the service pauses its worker), counts
// kr_redis_data_lost_total and logs one error line; the relay.data_lost event is written once per
// loss by whichever process notices first (tasks/redis-epoch.ts).
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { TaskKeys } from '../tasks/keys.js';
import { checkEpoch, openEpoch } from '../tasks/redis-epoch.js';
import type { RedisClient } from '../tasks/task-store.js';

export interface DataLossGuard {
  readonly epoch: string;
  readonly lost: boolean;
  /** Check now (cheap: one GET in a script); concurrent calls share one check. */
  check(): Promise<void>;
  stop(): void;
}

export interface DataLossGuardOptions {
  redis: RedisClient;
  keys: TaskKeys;
  metrics: RelayMetrics;
  logger: Logger;
  intervalMs: number;
  onLost: () => void | Promise<void>;
}

/** BullMQ's error when a job's hash is gone (`Missing key for job <id>. <command>`). */
export function isMissingKeyError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('Missing key for');
}

export async function startDataLossGuard(o: DataLossGuardOptions): Promise<DataLossGuard> {
  const epoch = await openEpoch(o.redis, o.keys);
  const detectedBy = `${hostname()}:${process.pid}`;
  let lost = false;
  let running: Promise<void> | undefined;

  const once = async () => {
    if (lost) return;
    const r = await checkEpoch(o.redis, o.keys, epoch, detectedBy);
    if (r.intact || lost) return;
    lost = true;
    clearInterval(timer);
    o.metrics.dataLost.inc();
    o.logger.error(
      { previousEpoch: r.previousEpoch, epoch: r.epoch, epochKey: o.keys.epoch() },
      'Redis lost its data (epoch key gone): this process stopped taking work; queued and in-flight tasks in Redis are gone — restart it once Redis is restored or the loss is accepted',
    );
    await o.onLost();
  };
  const check = () => {
    running ??= once()
      .catch((err: unknown) => o.logger.warn({ err }, 'epoch check failed (Redis unreachable?)'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void check(), o.intervalMs);
  timer.unref();
  return {
    epoch,
    get lost() {
      return lost;
    },
    check,
    stop: () => clearInterval(timer),
  };
}
