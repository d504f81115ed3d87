// Downloads a result URL under a FetchPolicy: every hop checked before it is requested, redirects followed by
// hand, bytes counted as they stream, one deadline for all of it. A body shorter or longer than its declared
// Content-Length is OUTPUT_CORRUPT. Returns the body; callers verify it is a whole image.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { OutputFetchError } from '../errors.js';
import { type LookupAll, resolveTarget, systemLookup } from './check-address.js';
import { checkUrl } from './check-url.js';
import { DEFAULT_MAX_REDIRECTS, type FetchPolicy } from './fetch-policy.js';
import { createOutputDispatcher } from './guarded-dispatcher.js';
import { fetchFailed, outputCorrupt, tooLarge } from './output-errors.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Client errors that say "later", not "never". */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);
/** How much of a refused response's body we read to keep the connection reusable. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

export interface FetchUrlOptions {
  /**
   * Without one, a private guarded dispatcher is made and closed here; pass one from
   * createOutputDispatcher(policy) to reuse connections. Any other dispatcher keeps the pre-flight
   * checks but loses the connect-time re-check that defeats DNS rebinding.
   */
  dispatcher?: Dispatcher;
  /** Replaces system DNS for the pre-flight check and the private dispatcher (tests play DNS with it). */
  lookup?: LookupAll;
}

/** GET `rawUrl` under `policy` and return its body. Throws OutputFetchError only. */
export async function fetchUrl(
  rawUrl: string,
  policy: FetchPolicy,
  opts: FetchUrlOptions = {},
): Promise<Buffer> {
  const lookup = opts.lookup ?? systemLookup;
  const own = opts.dispatcher ? undefined : createOutputDispatcher(policy, { lookup });
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  try {
    return await follow(rawUrl, policy, { dispatcher: opts.dispatcher ?? own!, lookup, deadline });
  } catch (err) {
    if (err instanceof OutputFetchError) throw err;
    if (deadline.aborted) throw fetchFailed(`fetch timed out after ${policy.timeoutMs} ms`, true, err);
    throw fetchFailed(`fetch failed: ${(err as Error).message}`, true, err);
  } finally {
    await own?.destroy();
  }
}

async function follow(
  rawUrl: string,
  policy: FetchPolicy,
  { dispatcher, lookup, deadline }: { dispatcher: Dispatcher; lookup: LookupAll; deadline: AbortSignal },
): Promise<Buffer> {
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let next: string | URL = rawUrl;
  for (let hop = 0; ; hop++) {
    const target = checkUrl(next, policy);
    await beforeDeadline(resolveTarget(target.host, target.privateConsent, lookup), deadline);
    const res = await request(target.url, {
      method: 'GET',
      dispatcher,
      signal: deadline,
      headers: { accept: 'image/*' },
    });
    const location = res.headers.location;
    if (REDIRECT_STATUSES.has(res.statusCode) && typeof location === 'string') {
      await drain(res.body);
      if (hop >= maxRedirects) throw fetchFailed(`more than ${maxRedirects} redirects`, false);
      next = new URL(location, target.url);
      continue;
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      await drain(res.body);
      const retryable = res.statusCode >= 500 || RETRYABLE_CLIENT_STATUSES.has(res.statusCode);
      throw fetchFailed(`HTTP ${res.statusCode} from ${target.url.host}`, retryable);
    }
    return readLimited(res, policy.maxBytes, deadline);
  }
}

async function readLimited(
  res: Dispatcher.ResponseData,
  maxBytes: number,
  deadline: AbortSignal,
): Promise<Buffer> {
  const header = res.headers['content-length'];
  const declared = typeof header === 'string' && /^[0-9]+$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > maxBytes) {
    res.body.destroy();
    throw tooLarge(`output is ${declared} bytes, the limit is ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        res.body.destroy();
        throw tooLarge(`output exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // A connection closed mid-body: with a declared length, that is a body cut short.
    if (err instanceof OutputFetchError || deadline.aborted || declared === undefined) throw err;
    throw shortBody(total, declared, err);
  }
  if (declared !== undefined && total !== declared) throw shortBody(total, declared);
  // undici's pool learns the connection is free one event-loop turn after the body ends; without this
  // turn, a caller that fetches again at once (the image checks are synchronous) opens a second socket.
  await nextTurn();
  return Buffer.concat(chunks, total);
}

function shortBody(received: number, declared: number, cause?: unknown) {
  return outputCorrupt(`received ${received} bytes, Content-Length declared ${declared}`, cause);
}

async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump({ limit: DRAIN_LIMIT_BYTES }).catch(() => undefined);
}

/** DNS lookups cannot be cancelled; stop waiting for one when the deadline passes. */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  if (deadline.aborted) return Promise.reject(deadline.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(deadline.reason);
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}
