// What the events functions need from a running service (a ServiceContext, the CLI's context or a Relay
// handle's state fits).
import type { Logger } from '../log.js';
import type { RelayState } from '../tasks/relay-state.js';

export type EventsContext = Pick<RelayState, 'redis' | 'queue' | 'tasks' | 'batches'> & {
  logger?: Logger;
};
