// The events module's public API: typed completion events, a resumable subscription, waits, the SSE
// route, signed outgoing webhooks (dispatcher + verification helper), budgets and the queue's cost.
export { type BudgetChange, type BudgetContext, raiseBudget } from './budget.js';
export {
  BudgetInputError,
  EventStreamRequestError,
  EventWaitTimeoutError,
  EventWebhookVerificationError,
} from './event-errors.js';
export {
  isRelayEventType,
  parseStreamEntry,
  RELAY_EVENT_TYPES,
  type RelayEvent,
  type RelayEventOf,
  type RelayEventType,
  relayEventSchema,
} from './event-types.js';
export type { EventsContext } from './events-context.js';
export { HEARTBEAT_MS, type MountEventsOptions, mountEvents } from './mount-events.js';
export {
  type HeaderSource,
  signEventWebhook,
  verifyEventWebhook,
} from './outgoing/event-webhook-signature.js';
export {
  RETRY_INITIAL_DELAY_MS,
  RETRY_MAX_AGE_MS,
  RETRY_MAX_DELAY_MS,
  type RetrySchedule,
} from './outgoing/retry-schedule.js';
export {
  type DispatcherContext,
  dispatcherOptionsFromConfig,
  type EventDispatcher,
  type EventDispatcherOptions,
  startEventDispatcher,
} from './outgoing/start-event-dispatcher.js';
export type { EventWebhookBody } from './outgoing/webhook-body.js';
export { type QueueCost, queueCost } from './queue-cost.js';
export { lastEventId, type SubscribeOptions, subscribeEvents } from './subscribe-events.js';
export { type WaitOptions, waitForBatch, waitForTask } from './wait-for-end.js';
