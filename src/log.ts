// Structured logs (pino). Every line about a task carries taskUUID; batchId and jobId where known.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'kontext-relay'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** A logger that drops everything (tests, library use without a logger). */
export const silentLogger: Logger = pino({ level: 'silent' });
