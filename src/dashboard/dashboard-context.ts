// What the dashboard reads and acts on: the Redis-side state (openRelayState) plus the service's config,
// S3 and logger. A subset of ServiceContext, so tests and other hosts can build it without a whole service.
import type { ServiceContext } from '../service/start-service.js';
import type { RelayState } from '../tasks/relay-state.js';

export type DashboardContext = Pick<RelayState, 'redis' | 'queue' | 'tasks' | 'batches'> &
  Pick<ServiceContext, 'config' | 'store' | 'logger'> &
  Partial<Pick<RelayState, 'admission'>>;
