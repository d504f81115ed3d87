// What the worker needs, passed in (never read from globals), so tests build it from real parts.

import type { Dispatcher } from 'undici';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../log.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { FetchPolicy } from '../outputs/fetch-policy.js';
import type { RunwareClient } from '../provider/runware-client.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { RelayState } from '../tasks/relay-state.js';
import type { PollPlanner } from './poll-planner.js';

/** The queue and records from openRelayState, plus what the worker adds. */
export interface WorkerDeps extends Pick<RelayState, 'queue' | 'tasks' | 'batches'> {
  config: Config;
  client: RunwareClient;
  store: ObjectStore;
  fetchPolicy: FetchPolicy;
  /** One guarded, keep-alive dispatcher for every output fetch (see outputs/guarded-dispatcher). */
  fetchDispatcher: Dispatcher;
  /** When to poll: learned latency, webhook health, the shared poll budget (poll-planner.ts). */
  poll: PollPlanner;
  metrics: RelayMetrics;
  logger: Logger;
  /** The fair-share scheduler; admission is gated only when this is set and MAX_IN_FLIGHT is. */
  admission?: RelayState['admission'];
}
