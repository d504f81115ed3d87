// Which errors mean "Redis is not answering right now" (down, restarting, loading its AOF), as opposed
// to a command Redis refused. Callers that wait (the CLI's --wait) retry the first kind and fail on
// the second.

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** Error names ioredis uses when a command gave up on the connection. */
const GAVE_UP_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

export function isRedisUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (GAVE_UP_NAMES.has(e.name)) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // ioredis rejects queued commands with this message when a connection ends under them; Redis
  // answers LOADING while it replays its AOF after a restart.
  return e.message === 'Connection is closed.' || e.message.startsWith('LOADING ');
}
