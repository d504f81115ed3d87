// The documented layout of stored outputs: `${prefix}${taskUUID}/${slot}.${ext}`, one object per result slot.
// outputKey and parseOutputKey are exact inverses; a key outside the layout parses to null.
import { FILE_EXTENSIONS, type OutputFormat } from '../contract/index.js';
import { RelayError } from '../errors.js';

/** A taskUUID becomes a path segment, so it may hold no slash, dot or other separator. */
const TASK_UUID_SEGMENT = /^[A-Za-z0-9-]+$/;
const KNOWN_EXTENSIONS = new Set(Object.values(FILE_EXTENSIONS));
const LAYOUT = /^([A-Za-z0-9-]+)\/(0|[1-9][0-9]{0,8})\.([a-z]+)$/;

export function outputKey(prefix: string, taskUUID: string, slot: number, format: OutputFormat): string {
  if (!TASK_UUID_SEGMENT.test(taskUUID)) {
    throw new RelayError('OUTPUT_KEY_INVALID', `taskUUID "${taskUUID}" cannot be a key segment`);
  }
  if (!Number.isSafeInteger(slot) || slot < 0) {
    throw new RelayError('OUTPUT_KEY_INVALID', `slot must be a non-negative integer, got ${slot}`);
  }
  return `${prefix}${taskUUID}/${slot}.${FILE_EXTENSIONS[format]}`;
}

export function parseOutputKey(
  prefix: string,
  key: string,
): { taskUUID: string; slot: number; ext: string } | null {
  if (!key.startsWith(prefix)) return null;
  const m = LAYOUT.exec(key.slice(prefix.length));
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return null;
  if (!KNOWN_EXTENSIONS.has(m[3])) return null;
  return { taskUUID: m[1], slot: Number(m[2]), ext: m[3] };
}
