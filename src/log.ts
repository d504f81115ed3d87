// Structured logs (pino). Every line about a task carries taskUUID; batchId and jobId where known, and
// trace_id / span_id when it is written inside a traced span.
import { type Logger, pino } from 'pino';
import { activeTraceFields } from './tracing/spans.js';

export type { Logger };

export function createLogger(level: string, name = 'kontext-relay'): Logger {
  return pino({ name, level, base: { pid: process.pid }, mixin: activeTraceFields });
}

/** A logger that drops everything (tests, library use without a logger). */
export const silentLogger: Logger = pino({ level: 'silent' });
