// The one place an error becomes an HTTP answer, for every route the service serves (webhooks, events,
// dashboard, admin API). Mapped by class and code, never by a `status` property an arbitrary error
// happens to have: HttpRequestError carries its own status, other RelayErrors map by code, express's
// body-parser errors by their documented `type`. Anything else is a 500, and is logged.
import type { ErrorRequestHandler } from 'express';
import { HttpRequestError, RelayError } from '../errors.js';

export interface HttpAnswer {
  status: number;
  code: string;
  message: string;
}

/** RelayError codes that are the caller's fault (or a missing thing), and their status. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  BATCH_VALIDATION_FAILED: 400,
  BUDGET_INVALID: 400,
  JSON_TOO_DEEP: 400,
  TENANT_INPUT: 400,
};

/** body-parser's error types (express.json/text), by the `type` it documents for each. */
const BODY_PARSER_TYPES: Readonly<Record<string, { status: number; code: string }>> = {
  'entity.too.large': { status: 413, code: 'BODY_TOO_LARGE' },
  'entity.parse.failed': { status: 400, code: 'BAD_JSON' },
  'entity.verify.failed': { status: 403, code: 'BODY_VERIFY_FAILED' },
  'encoding.unsupported': { status: 415, code: 'ENCODING_UNSUPPORTED' },
  'charset.unsupported': { status: 415, code: 'CHARSET_UNSUPPORTED' },
  'request.aborted': { status: 400, code: 'REQUEST_ABORTED' },
  'request.size.invalid': { status: 400, code: 'REQUEST_SIZE_INVALID' },
  'stream.encoding.set': { status: 500, code: 'INTERNAL' },
};

/** What to answer for `err`. */
export function httpAnswerFor(err: unknown): HttpAnswer {
  if (err instanceof HttpRequestError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof RelayError) {
    const status = STATUS_BY_CODE[err.code];
    if (status) return { status, code: err.code, message: err.message };
    return { status: 500, code: err.code, message: 'internal error' };
  }
  // express's router: a path parameter that is not valid percent-encoding.
  if (err instanceof URIError) return { status: 400, code: 'BAD_URI', message: err.message };
  const type = err instanceof Error ? (err as Error & { type?: unknown }).type : undefined;
  const known = typeof type === 'string' ? BODY_PARSER_TYPES[type] : undefined;
  if (known && known.status < 500) return { ...known, message: (err as Error).message };
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

export interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** The express error handler: answers per httpAnswerFor, and logs every 500 with its error. */
export function errorToHttp(logger?: ErrorLogger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const answer = httpAnswerFor(err);
    if (answer.status >= 500) logger?.error({ err, method: req.method, path: req.path }, 'request failed');
    if (!res.headersSent)
      res.status(answer.status).json({ ok: false, code: answer.code, message: answer.message });
  };
}
