// The provider's HTTP client: POST /v1 with an array body and Bearer auth over keep-alive HTTP.
// Outcomes become values (accepted / already accepted) or a typed ProviderError; it never retries
// itself — retry policy belongs to the queue (attempts, backoff, rate limiting).
import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';
import {
  type AccountBalance,
  ackItemSchema,
  envelopeSchema,
  extractErrors,
  type PolledItem,
  type ProviderTask,
  parseAccountDetails,
  parseLossless,
  parsePollResponse,
  stringifyLossless,
} from '../contract/index.js';
import type { ProviderError } from '../errors.js';
import { connectionError, httpStatusError, toProviderError } from './classify-error.js';

export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_CONNECTIONS = 64;

export interface RunwareClientOptions {
  url: string;
  apiKey: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** `status`: the provider's HTTP status (the trace's kr.submit records it). */
export type SubmitOutcome = { kind: 'accepted' | 'alreadyAccepted'; status: number };

export class RunwareClient {
  private readonly url: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(opts: RunwareClientOptions) {
    this.url = opts.url;
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Agent({ connections: KEEP_ALIVE_CONNECTIONS, pipelining: 1 });
  }

  /**
   * Submit one task asynchronously. `conflictTaskUUID` means an earlier attempt already reached the
   * provider, so it is reported as `alreadyAccepted` (go poll), not as a failure.
   */
  async submit(task: ProviderTask): Promise<SubmitOutcome> {
    // A submit is the one body that can carry a seed above 2^53: written losslessly.
    const { status, body } = await this.post([task], stringifyLossless);
    const errors = extractErrors(body).filter(
      (e) => e.taskUUID === undefined || e.taskUUID === task.taskUUID,
    );
    const conflict = errors.find((e) => e.code === 'conflictTaskUUID');
    if (conflict) return { kind: 'alreadyAccepted', status };
    if (errors[0]) throw toProviderError(errors[0], status);
    if (status >= 300) throw httpStatusError(status, JSON.stringify(body));
    const data = envelopeSchema.safeParse(body);
    const acked = (data.success ? (data.data.data ?? []) : []).some((d) => {
      const ack = ackItemSchema.safeParse(d);
      return ack.success && ack.data.taskUUID === task.taskUUID;
    });
    if (!acked)
      throw httpStatusError(status, `no acknowledgement for ${task.taskUUID}: ${JSON.stringify(body)}`);
    return { kind: 'accepted', status };
  }

  /** The full current state of every item of a task (processing / success / error). */
  async getResponse(taskUUID: string): Promise<PolledItem[]> {
    const { status, body } = await this.post([{ taskType: 'getResponse', taskUUID }]);
    const items = parsePollResponse(body, taskUUID);
    if (status >= 300) {
      const [first] = extractErrors(body);
      throw first ? toProviderError(first, status) : httpStatusError(status, JSON.stringify(body));
    }
    return items;
  }

  /** The account's balance and usage (`accountManagement`, `operation: "getDetails"`). */
  async getAccountDetails(): Promise<AccountBalance> {
    const { status, body } = await this.post([
      { taskType: 'accountManagement', operation: 'getDetails', taskUUID: randomUUID() },
    ]);
    const [first] = extractErrors(body);
    if (first) throw toProviderError(first, status);
    if (status >= 300) throw httpStatusError(status, JSON.stringify(body));
    const details = parseAccountDetails(body);
    if (!details) throw httpStatusError(502, `no balance in the getDetails answer: ${JSON.stringify(body)}`);
    return details;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async post(
    tasks: unknown[],
    serialise: (v: unknown) => string = JSON.stringify,
  ): Promise<{ status: number; body: unknown }> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body: serialise(tasks),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (cause) {
      throw connectionError(cause);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (cause) {
      throw connectionError(cause);
    }
    try {
      return { status: res.statusCode, body: parseLossless(text) };
    } catch {
      throw httpStatusError(res.statusCode >= 300 ? res.statusCode : 502, text) satisfies ProviderError;
    }
  }
}
