// Counters the tests and benchmarks read; plain numbers, only ever incremented.
// `requests` counts POST /v1 calls; per-task counters count tasks, not requests.

export interface SimulatorStats {
  requests: number;
  tasksAccepted: number;
  tasksRejected: number;
  itemsGenerated: number;
  /** Webhook bodies that got a 2xx (a duplicate counts again). */
  webhooksSent: number;
  webhookAttempts: number;
  webhookRetries: number;
  /** Webhooks never delivered: dropped by the fault or given up after the last attempt. */
  webhooksDropped: number;
  webhooksDuplicated: number;
  /** PUTs to an uploadEndpoint that got a 2xx. */
  uploads: number;
  /** Uploads never made (uploadFail fault) or failed after every retry. */
  uploadsFailed: number;
  /** getResponse tasks answered. */
  polls: number;
  /** Requests made only of getResponse tasks, answered or not (a 503 counts too). */
  pollRequests: number;
  submitFaults: number;
  /** Image copies handed out damaged by a body fault (inline items, GETs of an imageURL). */
  imagesDamaged: number;
}

export function createStats(): SimulatorStats {
  return {
    requests: 0,
    tasksAccepted: 0,
    tasksRejected: 0,
    itemsGenerated: 0,
    webhooksSent: 0,
    webhookAttempts: 0,
    webhookRetries: 0,
    webhooksDropped: 0,
    webhooksDuplicated: 0,
    uploads: 0,
    uploadsFailed: 0,
    polls: 0,
    pollRequests: 0,
    submitFaults: 0,
    imagesDamaged: 0,
  };
}
