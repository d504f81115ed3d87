// The public library API of kontext-relay, and nothing else. The simulator is a separate entry
// point: `kontext-relay/simulator`.
export { type Config, loadConfig } from './config/load-config.js';
export {
  MODELS,
  type ProviderTask,
  parseLossless,
  stringifyLossless,
  type TaskInput,
  type ValidTask,
  validateTaskInput,
} from './contract/index.js';
export { type AuditEntry, readAuditTrail, recordOperatorAction } from './control/audit-trail.js';
export { cancelBatch } from './control/cancel-batch.js';
export {
  cancelBatchAction,
  resumeQueueAction,
  retryFailedAction,
  setBudgetAction,
} from './control/operator-actions.js';
export {
  planRetry,
  type RetryFailedOptions,
  type RetryOutcome,
  type RetryPlan,
  retryFailedTasks,
  retryTask,
} from './control/retry-failed.js';
export * from './errors.js';
export * from './events/index.js';
export { createProducer, type EnqueueOptions, type Producer } from './producer/create-producer.js';
export {
  type BatchOptions,
  type BatchSummary,
  MalformedEntry,
  type SkippedEntry,
} from './producer/enqueue-batch.js';
export { RunwareClient } from './provider/runware-client.js';
export {
  createRelay,
  type Relay,
  RelayClosedError,
  type RelayEventsOptions,
  type RelayOptions,
} from './relay/create-relay.js';
export { type RunningService, type ServiceOptions, startService } from './service/start-service.js';
export {
  type BatchStatus,
  readBatchStatus,
  readBatchTasks,
  readTaskStatus,
  type TaskStatus,
} from './status/read-status.js';
export type { TaskJobData, TaskJobResult } from './tasks/job-data.js';
export { LANES, type Lane } from './tasks/job-options.js';
export { connectRedis, createRedis } from './tasks/redis-connection.js';
export { openRelayState, type RelayState } from './tasks/relay-state.js';
export type { SlotFailure, StoredOutput } from './tasks/types.js';
export { verifyWebhookToken, webhookUrlFor } from './tokens/webhook-token.js';
