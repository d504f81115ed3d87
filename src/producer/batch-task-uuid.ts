// The taskUUID of a batch entry that names none: derived from (batch id, position, canonical task), so
// enqueueing the same entries into the same batch again adds nothing and bills nothing (README "Re-runs").
// Invariant: the same three inputs always give the same UUID v4-shaped id; any change to one gives another.
import { deriveUuid } from '../tasks/derive-uuid.js';

/** Bump only with a README note: every derived taskUUID changes, so a re-run would bill again. */
const DERIVATION_VERSION = 'batch-task/v1';

/**
 * JSON with object keys sorted at every level, so two spellings of one task (key order, `"seed": 42`
 * vs `"seed": "42"` once validated) read the same. Bigints are written as their decimal digits.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `position` is the entry's line number when it came from a file (blank lines count), else its 0-based
 * index in the source. `task` is the validated task, without a taskUUID.
 */
export function batchTaskUuid(batchId: string, position: number, task: object): string {
  return deriveUuid(`${DERIVATION_VERSION}\n${batchId}\n${position}\n${canonicalJson(task)}`);
}
