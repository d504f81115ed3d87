// What the events functions need from a running service (a ServiceContext or the CLI's context fits).
import type { Logger } from '../log.js';
import type { StatusContext } from '../status/read-status.js';
import type { RedisClient } from '../tasks/task-store.js';

export interface EventsContext extends StatusContext {
  /** The shared connection; blocking reads always use a duplicate of it. */
  redis: RedisClient;
  logger?: Logger;
}
