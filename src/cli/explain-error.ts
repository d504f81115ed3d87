// What the CLI prints when a command fails: one line saying what went wrong and, for the failures a
// user can fix (a missing file, Redis not reachable, a port in use, a configuration variable), a hint.
// The stack is printed only with KR_DEBUG=1 or for errors we do not recognise.
import { ConfigError, RelayError } from '../errors.js';
import { isRedisUnavailable } from '../tasks/redis-unavailable.js';
import { EXIT } from './exit-codes.js';

export interface Explanation {
  /** One line, starting with `error:`. */
  message: string;
  hint?: string;
  exitCode: number;
  /** Unrecognised: the stack is worth showing. */
  unexpected: boolean;
}

type SystemError = Error & { code?: unknown; path?: unknown; port?: unknown; address?: unknown };

/** A Redis URL fit to print: credentials removed. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export function explainError(e: unknown, env: NodeJS.ProcessEnv = process.env): Explanation {
  if (e instanceof ConfigError)
    return { message: `error: ${e.message}`, exitCode: EXIT.CONFIG, unexpected: false };
  const err = e as SystemError;
  const code = e instanceof Error && typeof err.code === 'string' ? err.code : undefined;
  if (code === 'ENOENT' && typeof err.path === 'string')
    return {
      message: `error: no such file: ${err.path}`,
      hint: 'check the path (enqueue reads a JSONL file, one task per line; `-` reads stdin)',
      exitCode: EXIT.FAILURES,
      unexpected: false,
    };
  if (code === 'EADDRINUSE') {
    const port = typeof err.port === 'number' ? ` ${err.port}` : '';
    return {
      message: `error: port${port} is already in use`,
      hint: 'stop the process that holds it, or choose another port (PORT, METRICS_PORT, --port)',
      exitCode: EXIT.FAILURES,
      unexpected: false,
    };
  }
  if (isRedisUnavailable(e)) {
    const url = redactedUrl(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return {
      message: `error: cannot reach Redis at ${url}`,
      hint: 'start Redis (docker compose up -d redis), or set REDIS_URL to where it runs',
      exitCode: EXIT.FAILURES,
      unexpected: false,
    };
  }
  if (e instanceof RelayError)
    return { message: `error: ${e.message}`, exitCode: EXIT.FAILURES, unexpected: false };
  const text = e instanceof Error ? e.message : String(e);
  return { message: `error: ${text.split('\n')[0]}`, exitCode: EXIT.FAILURES, unexpected: true };
}

/** Print the explanation on stderr; the stack only when unexpected or KR_DEBUG=1. */
export function reportError(e: unknown, env: NodeJS.ProcessEnv = process.env): number {
  const x = explainError(e, env);
  console.error(x.message);
  if (x.hint) console.error(`hint: ${x.hint}`);
  if ((x.unexpected || env.KR_DEBUG === '1') && e instanceof Error && e.stack) console.error(e.stack);
  return x.exitCode;
}
