// One POST of an event webhook with undici: a keep-alive agent shared by all attempts, a hard timeout,
// no redirects followed (a 3xx is a failed attempt). Never throws: the outcome says what happened.
import { Agent, request } from 'undici';

/** Idle keep-alive sockets to a receiver are closed after this long. */
export const KEEP_ALIVE_MS = 30_000;
/** Concurrent connections per receiver origin. */
export const CONNECTIONS_PER_ORIGIN = 8;
const USER_AGENT = 'kontext-relay-events/1';

export type PostOutcome = { ok: true; status: number } | { ok: false; status?: number; error: string };

export function createWebhookAgent(): Agent {
  return new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connections: CONNECTIONS_PER_ORIGIN });
}

export async function postWebhook(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}` };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
