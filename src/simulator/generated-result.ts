// What the simulator remembers about each item it produced, for tests and benchmarks to check
// against what a client received. Item errors are listed too, with `error` set and no bytes.
import type { OutputFormat } from '../contract/index.js';

export interface GeneratedResult {
  taskUUID: string;
  imageUUID: string;
  /** 0-based position of the item within its task. */
  index: number;
  /** Decimal string: seeds may exceed 2^53. */
  seed: string;
  format: OutputFormat;
  contentType: string;
  /** Hex SHA-256 of the exact bytes; empty for an item error. */
  sha256: string;
  /** Byte length; 0 for an item error. */
  size: number;
  error?: { code: string; message: string };
  /** 'webhook' once a webhook got a 2xx, else 'upload' once a PUT did, else 'none'. */
  delivered: 'webhook' | 'upload' | 'none';
  /** From the task's acceptance until this item was done (the provider's own latency for it). */
  latencyMs: number;
}
