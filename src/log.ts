// Structured logs (pino). Every line about a task carries taskUUID; batchId and jobId where known, and
// trace_id / span_id when it is written inside a traced span.
import { type DestinationStream, type Logger, pino } from 'pino';
import { activeTraceFields } from './tracing/spans.js';

export type { Logger };

/** `destination`: where lines go (default stdout); tests pass a stream to read them. */
export function createLogger(level: string, name = 'kontext-relay', destination?: DestinationStream): Logger {
  const opts = { name, level, base: { pid: process.pid }, mixin: activeTraceFields };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything (tests, library use without a logger). */
export const silentLogger: Logger = pino({ level: 'silent' });
