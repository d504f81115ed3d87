// Deterministic UUIDs shaped as v4 (version and variant bits set), derived from a name. Used for
// idempotency keys and upload-mode subtasks, so a retried submit reuses the same provider taskUUID.
import { createHash } from 'node:crypto';

export function deriveUuid(name: string): string {
  const b = createHash('sha256').update(name).digest();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
